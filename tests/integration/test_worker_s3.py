"""The test worker over an S3 UFS (s3rver, through dorafs's own S3 code), read
by the worker client: GetStatus, ListStatus and byte-exact ReadBlock, a miss
read from S3 and a repeat served from the worker's page cache."""
import os
import random
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(
    os.environ.get("DORAFS_SOURCE_DIR") or os.path.join(HERE, "..", ".."), "tests", "servers", "worker"))
from s3_testlib import ACCESS_KEY, S3RVER, S3rver  # noqa: E402
from worker_harness import MiB, TestWorker, driver, fields  # noqa: E402

os.environ["AWS_ACCESS_KEY_ID"] = ACCESS_KEY
os.environ["AWS_SECRET_ACCESS_KEY"] = "not-checked-by-s3rver"
for var in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION"):
    os.environ.pop(var, None)


@unittest.skipIf(not os.path.exists(S3RVER) or shutil.which("node") is None, "s3rver is not installed")
class WorkerS3Test(unittest.TestCase):
    def test_s3_ufs_through_worker(self):
        with S3rver() as s3, tempfile.TemporaryDirectory(prefix="dfs-ws3-") as tmp:
            s3.make_bucket("wbucket")
            data = random.Random(5).randbytes(3 * MiB + 123)
            s3.put("wbucket", "data/dir/file", data)
            s3.put("wbucket", "data/dir/other", b"x")
            local = os.path.join(tmp, "file")
            with open(local, "wb") as f:
                f.write(data)
            with TestWorker("s3://wbucket/data", uri_root="s3://wbucket/data",
                            extra=["-o", "s3.endpoint=" + s3.endpoint]) as w:
                rc, out = driver(w, "stat", "/dir/file")
                self.assertEqual(rc, 0, out)
                f = fields(out[0])
                self.assertEqual(int(f["size"]), len(data))
                self.assertEqual(f["path"], "s3://wbucket/data/dir/file")
                rc, out = driver(w, "list", "/dir")
                self.assertEqual((rc, fields(out[0])["count"]), (0, "2"), out)
                rc, out = driver(w, "stat", "/dir/none")
                self.assertTrue(out[0].startswith("ERR ENOENT"), out)
                rc, out = driver(w, "read", "/dir/file", local, "20", "1")
                self.assertEqual(rc, 0, out)
                st = w.stats()
                self.assertEqual(st["pages_from_ufs"], 4)      # 4 pages of 1 MiB, each read once
                rc, out = driver(w, "read", "/dir/file", local, "20", "2")
                self.assertEqual(rc, 0, out)
                st2 = w.stats()
                self.assertEqual(st2["pages_from_ufs"], 4)
                self.assertGreater(st2["pages_from_cache"], st["pages_from_cache"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
