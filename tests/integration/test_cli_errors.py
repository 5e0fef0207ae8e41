"""Bad input to `dorafs mount` and friends: one clear line naming the bad value,
a non-zero exit, nothing mounted and nothing created outside the cache folder."""
import os

from dorafs_testlib import DORAFS, MountTestCase, is_mounted, main, run


class CliErrorTest(MountTestCase):
    def snapshot(self):
        return sorted(os.path.join(d, x) for d, ds, fs in os.walk(self.tmp) for x in ds + fs)

    def assert_fails(self, args, *needles, code=None):
        before = self.snapshot()
        r = run(DORAFS, *args, check=False)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        if code is not None:
            self.assertEqual(r.returncode, code)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, f"want one line, got: {r.stderr!r}")
        self.assertTrue(lines[0].startswith("dorafs"), lines[0])
        for n in needles:
            self.assertIn(n, lines[0])
        self.assertFalse(is_mounted(self.mnt))
        self.assertEqual(self.snapshot(), before, "something was created")
        return lines[0]

    def test_missing_mount_point(self):
        self.assert_fails(["mount", self.ufs, os.path.join(self.tmp, "nope")], "nope")

    def test_missing_arguments(self):
        self.assert_fails(["mount", self.ufs], "missing mount point", code=2)
        self.assert_fails(["mount"], "missing", code=2)

    def test_non_empty_mount_point(self):
        open(os.path.join(self.mnt, "x"), "w").close()
        self.assert_fails(["mount", self.ufs, self.mnt], "not empty", self.mnt)

    def test_mount_point_is_a_file(self):
        f = os.path.join(self.tmp, "file")
        open(f, "w").close()
        self.assert_fails(["mount", self.ufs, f], "not a folder")

    def test_missing_ufs_path(self):
        self.assert_fails(["mount", os.path.join(self.tmp, "no-ufs"), self.mnt], "no-ufs")

    def test_ufs_is_a_file(self):
        f = os.path.join(self.tmp, "file")
        open(f, "w").close()
        self.assert_fails(["mount", f, self.mnt], "file")

    def test_unknown_scheme(self):
        self.assert_fails(["mount", "gopher://x/y", self.mnt], "gopher")

    def test_unknown_option(self):
        self.assert_fails(["mount", self.ufs, self.mnt, "-o", "no_such_option=1"], "no_such_option")

    def test_option_without_a_name_does_not_echo_the_list(self):
        # The list may hold a secret (and so may the nameless value).
        line = self.assert_fails(["mount", self.ufs, self.mnt, "-o",
                                  "s3a.secretKey=TOPSECRET123,=ALSOSECRET"], "option 2", "no name")
        self.assertNotIn("SECRET", line)

    def test_bad_size(self):
        self.assert_fails(["mount", self.ufs, self.mnt, "-o",
                           f"local_data_cache={self.cache},local_data_cache_size=12XB"], "12XB",
                          "local_data_cache_size")

    def test_bad_number_and_duration(self):
        self.assert_fails(["mount", self.ufs, self.mnt, "-o", "local_metadata_cache_size=-4"], "-4")
        self.assert_fails(["mount", self.ufs, self.mnt, "-o", "attr_timeout=soon"], "soon", "attr_timeout")
        self.assert_fails(["mount", self.ufs, self.mnt, "-o", "page_size=12"], "page_size")

    def test_cache_folder_cannot_be_created(self):
        blocker = os.path.join(self.tmp, "blocker")
        open(blocker, "w").close()
        self.assert_fails(["mount", self.ufs, self.mnt, "-o", f"local_data_cache={blocker}/cache"], "blocker")

    def test_unreadable_conf_file(self):
        self.assert_fails(["mount", self.ufs, self.mnt, "-o", f"conf={self.tmp}/none.properties"], "none.properties")

    def test_bad_line_in_conf_file(self):
        conf = os.path.join(self.tmp, "dorafs.properties")
        with open(conf, "w") as f:
            f.write("# comment\n\nattr_timeout=5\nlocal_data_cache_size = lots\n")
        self.assert_fails(["mount", self.ufs, self.mnt, "-o", f"conf={conf}"], "dorafs.properties:4", "lots")

    def test_unknown_command_and_flag(self):
        r = run(DORAFS, "frobnicate", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("frobnicate", r.stderr)
        r = run(DORAFS, "mount", "--bogus", self.ufs, self.mnt, check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--bogus", r.stderr)

    def test_stat_of_a_plain_folder(self):
        r = run(DORAFS, "stat", self.tmp, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a running dorafs mount", r.stderr)

    def test_unmount_of_a_plain_folder(self):
        r = run(DORAFS, "unmount", self.tmp, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(self.tmp, r.stderr)

    def test_help_lists_every_option_with_default(self):
        r = run(DORAFS, "mount", "--help")
        for opt in ("local_data_cache", "local_data_cache_size", "local_cache_size", "page_size",
                    "local_metadata_cache_size", "local_metadata_cache_expire", "attr_timeout",
                    "entry_timeout", "kernel_cache", "auto_cache", "direct_io", "max_idle_threads",
                    "allow_other", "conf"):
            self.assertIn(opt, r.stdout)
        self.assertIn("default: 512MB", r.stdout)
        self.assertIn("default: 600", r.stdout)
        r = run(DORAFS, "--help")
        for cmd in ("mount", "unmount", "stat"):
            self.assertIn(cmd, r.stdout)

    def test_conf_file_and_command_line_precedence(self):
        conf = os.path.join(self.tmp, "dorafs.properties")
        with open(conf, "w") as f:
            f.write(f"local_data_cache={self.cache}\nlocal_cache_size=64MB\nalluxio.some.cluster.key=1\n")
        with open(os.path.join(self.ufs, "x"), "wb") as f:
            f.write(b"hello")
        from dorafs_testlib import Mount
        with Mount(self.ufs, self.mnt, f"conf={conf},local_data_cache_size=32MB") as m:
            s = m.stats()["page_cache"]
            self.assertLessEqual(s["capacity"], 32 << 20)
            self.assertGreater(s["capacity"], 16 << 20)


if __name__ == "__main__":
    main()
