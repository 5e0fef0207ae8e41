"""Read-only FUSE mount of a local folder with the on-disk page cache."""
import errno
import os
import random
import subprocess
import threading
import time

from dorafs_testlib import MiB, MountTestCase, main, read_file, run, write_random

PAGE = MiB
SIZES = {"empty": 0, "one": 1, "page_minus_1": PAGE - 1, "page": PAGE, "page_plus_1": PAGE + 1}


class LocalMountTest(MountTestCase):
    def cache_opts(self, size="256MB", more=""):
        opts = f"local_data_cache={self.cache},local_data_cache_size={size}"
        return opts + ("," + more if more else "")

    def make_sizes(self):
        for name, size in SIZES.items():
            write_random(os.path.join(self.ufs, name), size)

    def test_byte_exact_reads_of_edge_sizes(self):
        self.make_sizes()
        with self.mount(self.cache_opts()):
            for name, size in SIZES.items():
                want = read_file(os.path.join(self.ufs, name))
                got = read_file(os.path.join(self.mnt, name))
                self.assertEqual(len(got), size, name)
                self.assertEqual(got, want, name)
                self.assertEqual(os.stat(os.path.join(self.mnt, name)).st_size, size)

    def test_random_offsets_of_100mib_file(self):
        path = os.path.join(self.ufs, "big.bin")
        write_random(path, 100 * MiB, seed=7)
        want = read_file(path)
        rnd = random.Random(1)
        with self.mount(self.cache_opts()):
            fd = os.open(os.path.join(self.mnt, "big.bin"), os.O_RDONLY)
            try:
                for _ in range(300):
                    off = rnd.randrange(0, len(want) + 10)
                    size = rnd.choice([1, 7, 4096, 65536, PAGE - 1, PAGE, PAGE + 1, 3 * PAGE + 5])
                    self.assertEqual(os.pread(fd, size, off), want[off:off + size], (off, size))
            finally:
                os.close(fd)
            self.assertEqual(read_file(os.path.join(self.mnt, "big.bin")), want)

    def test_many_threads_read_at_once(self):
        for i in range(4):
            write_random(os.path.join(self.ufs, f"f{i}"), 9 * MiB + i, seed=i)
        wants = [read_file(os.path.join(self.ufs, f"f{i}")) for i in range(4)]
        errors = []
        with self.mount(self.cache_opts()):
            def reader(tid):
                rnd = random.Random(tid)
                try:
                    for _ in range(60):
                        i = rnd.randrange(4)
                        off = rnd.randrange(len(wants[i]))
                        size = rnd.choice([512, 8192, PAGE, 2 * PAGE + 3])
                        with open(os.path.join(self.mnt, f"f{i}"), "rb") as f:
                            f.seek(off)
                            got = f.read(size)
                        if got != wants[i][off:off + size]:
                            errors.append((tid, i, off, size))
                except Exception as e:  # noqa: BLE001 - report any failure from the thread
                    errors.append(repr(e))
            threads = [threading.Thread(target=reader, args=(t,)) for t in range(12)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])

    def test_nested_folders_and_odd_names(self):
        names = ["a/b/c/deep.txt", "with space/file name.txt", "utf8-été/日本語.bin", "a/b/other", "top"]
        for i, n in enumerate(names):
            write_random(os.path.join(self.ufs, n), 1000 + i)
        os.makedirs(os.path.join(self.ufs, "empty-dir"))
        with self.mount(self.cache_opts()):
            def tree(root):
                out = []
                for d, dirs, files in os.walk(root):
                    rel = os.path.relpath(d, root)
                    out += [(os.path.join(rel, x), "d") for x in dirs]
                    out += [(os.path.join(rel, x), os.path.getsize(os.path.join(d, x))) for x in files]
                return sorted(out)
            self.assertEqual(tree(self.mnt), tree(self.ufs))
            for n in names:
                self.assertEqual(read_file(os.path.join(self.mnt, n)), read_file(os.path.join(self.ufs, n)))
            self.assertFalse(os.path.exists(os.path.join(self.mnt, "no-such-file")))
            with self.assertRaises(FileNotFoundError):
                os.stat(os.path.join(self.mnt, "a", "missing"))

    def test_second_read_comes_from_page_cache(self):
        write_random(os.path.join(self.ufs, "data"), 5 * MiB + 3)
        with self.mount(self.cache_opts()) as m:
            read_file(os.path.join(self.mnt, "data"))
            # A page is stored after its reply went out: the last stores may
            # still be under way when the reader has all its bytes.
            deadline = time.time() + 10
            while True:
                s1 = m.stats()
                if s1["page_cache"]["pages"] == 6 or time.time() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual(s1["ufs"]["bytes"], 5 * MiB + 3)
            self.assertEqual(s1["page_cache"]["pages"], 6)
            read_file(os.path.join(self.mnt, "data"))  # a new open drops the kernel's copy
            s2 = m.stats()
            self.assertEqual(s2["ufs"]["bytes"], s1["ufs"]["bytes"], "second read went to the UFS")
            self.assertEqual(s2["page_cache"]["bytes_from_cache"] - s1["page_cache"]["bytes_from_cache"], 5 * MiB + 3)
            self.assertGreater(s2["page_cache"]["hits"], s1["page_cache"]["hits"])
            # A sequential reader of stored pages gets the following pages warmed.
            self.assertGreater(s2["page_cache"]["prefetches"], 0)
            human = run(os.path.join(os.environ.get("DORAFS_BUILD_DIR", "build"), "cli", "dorafs"), "stat", self.mnt).stdout
            self.assertIn("page cache", human)
            self.assertIn("from cached pages", human)

    def test_restart_reuses_cache(self):
        write_random(os.path.join(self.ufs, "data"), 3 * MiB)
        with self.mount(self.cache_opts()):
            read_file(os.path.join(self.mnt, "data"))
        with self.mount(self.cache_opts()) as m:
            s = m.stats()
            self.assertEqual(s["page_cache"]["restored_pages"], 3)
            self.assertEqual(read_file(os.path.join(self.mnt, "data")), read_file(os.path.join(self.ufs, "data")))
            s = m.stats()
            self.assertEqual(s["ufs"]["bytes"], 0, "restart did not reuse the cached pages")
            self.assertEqual(s["page_cache"]["bytes_from_cache"], 3 * MiB)

    def test_cap_holds_with_larger_working_set(self):
        for i in range(8):
            write_random(os.path.join(self.ufs, f"f{i}"), 4 * MiB, seed=i)
        cap = 8 * MiB
        with self.mount(self.cache_opts(size="8MB")) as m:
            for rnd in range(2):
                for i in range(8):
                    self.assertEqual(read_file(os.path.join(self.mnt, f"f{i}")),
                                     read_file(os.path.join(self.ufs, f"f{i}")))
                    s = m.stats()["page_cache"]
                    self.assertLessEqual(s["used_bytes"], cap)
            self.assertGreater(s["evictions"], 0)
            du = int(subprocess.run(["du", "-sb", "--exclude=tmp", self.cache], capture_output=True,
                                    text=True).stdout.split()[0])
            pages = sum(len(f) for _, _, f in os.walk(self.cache))
            self.assertLessEqual(pages, 8)
            self.assertLessEqual(du - 4096 * 600, cap)  # directories themselves are not pages

    def test_corrupted_page_is_detected_and_refetched(self):
        write_random(os.path.join(self.ufs, "data"), 2 * MiB)
        want = read_file(os.path.join(self.ufs, "data"))
        with self.mount(self.cache_opts()):
            read_file(os.path.join(self.mnt, "data"))
        page_files = [os.path.join(d, f) for d, _, fs in os.walk(self.cache) for f in fs
                      if os.path.getsize(os.path.join(d, f)) > MiB]
        self.assertEqual(len(page_files), 2)
        with open(page_files[0], "r+b") as f:
            f.seek(os.path.getsize(page_files[0]) - 1000)
            b = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([b[0] ^ 0xFF]))
        with self.mount(self.cache_opts()) as m:
            self.assertEqual(read_file(os.path.join(self.mnt, "data")), want)
            s = m.stats()
            self.assertEqual(s["page_cache"]["checksum_failures"], 1)
            self.assertEqual(s["ufs"]["bytes"], MiB, "only the bad page is read again")

    def test_changed_source_is_seen_after_ttl(self):
        path = os.path.join(self.ufs, "data")
        write_random(path, MiB + 10, seed=1)
        opts = self.cache_opts(more="attr_timeout=1,entry_timeout=1,local_metadata_cache_expire=1")
        with self.mount(opts) as m:
            self.assertEqual(read_file(os.path.join(self.mnt, "data")), read_file(path))
            write_random(path, MiB + 10, seed=2)  # same size, new bytes and mtime
            os.utime(path, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
            time.sleep(2.2)
            self.assertEqual(read_file(os.path.join(self.mnt, "data")), read_file(path))
            write_random(path, 3 * MiB, seed=3)  # grown
            time.sleep(2.2)
            self.assertEqual(read_file(os.path.join(self.mnt, "data")), read_file(path))
            self.assertGreaterEqual(m.stats()["page_cache"]["stale_drops"] + m.stats()["page_cache"]["misses"], 2)

    def _tmpfs(self, path, size):
        os.makedirs(path, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path], check=True)
        self.extra_mounts = getattr(self, "extra_mounts", []) + [path]

    def test_read_only_cache_folder_still_reads_correctly(self):
        write_random(os.path.join(self.ufs, "data"), 3 * MiB)
        write_random(os.path.join(self.ufs, "more"), 2 * MiB)
        self._tmpfs(self.cache, "64m")
        with self.mount(self.cache_opts()):
            read_file(os.path.join(self.mnt, "data"))
        subprocess.run(["mount", "-o", "remount,ro", self.cache], check=True)
        log = os.path.join(self.tmp, "dorafs.log")
        with self.mount(self.cache_opts(more=f"log_file={log}")) as m:
            for _ in range(3):
                self.assertEqual(read_file(os.path.join(self.mnt, "data")), read_file(os.path.join(self.ufs, "data")))
                self.assertEqual(read_file(os.path.join(self.mnt, "more")), read_file(os.path.join(self.ufs, "more")))
            s = m.stats()["page_cache"]
            self.assertTrue(s["degraded"])
            self.assertGreaterEqual(s["bytes_from_cache"], 3 * 3 * MiB)
        with open(log) as f:
            lines = [l for l in f if "cache" in l.lower()]
        self.assertEqual(len(lines), 1, f"the cache failure should be logged once: {lines}")

    def test_full_cache_disk_still_reads_correctly(self):
        write_random(os.path.join(self.ufs, "data"), 6 * MiB)
        self._tmpfs(self.cache, "3m")
        with self.mount(self.cache_opts(size="100MB")) as m:
            for _ in range(2):
                self.assertEqual(read_file(os.path.join(self.mnt, "data")), read_file(os.path.join(self.ufs, "data")))
            s = m.stats()["page_cache"]
            self.assertLessEqual(s["used_bytes"], 3 * MiB)

    def test_writes_are_refused_with_erofs(self):
        write_random(os.path.join(self.ufs, "data"), 10)
        with self.mount(self.cache_opts()):
            for fn in (lambda: open(os.path.join(self.mnt, "new"), "wb"),
                       lambda: open(os.path.join(self.mnt, "data"), "r+b"),
                       lambda: os.mkdir(os.path.join(self.mnt, "d")),
                       lambda: os.unlink(os.path.join(self.mnt, "data")),
                       lambda: os.rename(os.path.join(self.mnt, "data"), os.path.join(self.mnt, "x")),
                       lambda: os.chmod(os.path.join(self.mnt, "data"), 0o600)):
                with self.assertRaises(OSError) as cm:
                    fn()
                self.assertEqual(cm.exception.errno, errno.EROFS)
            # Read-only for the kernel too, so tools that ask first get the truth.
            self.assertTrue(os.statvfs(self.mnt).f_flag & os.ST_RDONLY)
            self.assertFalse(os.access(os.path.join(self.mnt, "data"), os.W_OK))
            self.assertTrue(os.access(os.path.join(self.mnt, "data"), os.R_OK))
            self.assertEqual(read_file(os.path.join(self.ufs, "data")), read_file(os.path.join(self.mnt, "data")))

    def test_readdir_inode_numbers_match_stat(self):
        # The kernel mixes plain and plus readdir (READDIRPLUS_AUTO): plus
        # at offset 0 and after lookups, plain otherwise. A plain one looks
        # nothing up, yet its d_ino must be stat's st_ino. Listing whole
        # before any stat makes every later getdents a plain one.
        os.makedirs(os.path.join(self.ufs, "a", "b"))
        for i in range(3000):
            open(os.path.join(self.ufs, "a", f"f{i}"), "w").close()
        open(os.path.join(self.ufs, "a", "b", "f0"), "w").close()
        with self.mount(self.cache_opts()):
            for _ in range(2):  # a second time, after every name was looked up
                for d in ("", "a", "a/b"):
                    with os.scandir(os.path.join(self.mnt, d)) as it:
                        listed = [(e.path, e.inode()) for e in it]
                    for path, ino in listed:
                        self.assertEqual(ino, os.stat(path).st_ino, path)
            # The same name in two folders is two files.
            self.assertNotEqual(os.stat(os.path.join(self.mnt, "a", "f0")).st_ino,
                                os.stat(os.path.join(self.mnt, "a", "b", "f0")).st_ino)
            self.assertEqual(os.stat(self.mnt).st_ino, 1)

    def test_mtimes_before_1970_are_exact(self):
        # 1960-01-01 00:00:00.5 and 1969-12-31 23:59:59.25 UTC, and one after 1970.
        times = {"old": -315619199_500_000_000, "edge": -750_000_000, "new": 1_700_000_000_123_000_000}
        for name, ns in times.items():
            write_random(os.path.join(self.ufs, name), 10)
            os.utime(os.path.join(self.ufs, name), ns=(ns, ns))
        with self.mount(self.cache_opts()):
            for name, ns in times.items():
                self.assertEqual(os.stat(os.path.join(self.mnt, name)).st_mtime_ns, ns, name)

    def test_statfs_reports_the_ufs_disk(self):
        with self.mount(self.cache_opts()):
            a, b = os.statvfs(self.mnt), os.statvfs(self.ufs)
            self.assertEqual(a.f_blocks * a.f_frsize // MiB, b.f_blocks * b.f_frsize // MiB)
            self.assertEqual(a.f_namemax, 255)
            # Inodes: all and free, as the UFS disk has them (df -i once
            # showed the used count as the total, and none free).
            self.assertEqual(a.f_files, b.f_files)
            self.assertGreater(a.f_ffree, 0)
            self.assertLess(abs(a.f_ffree - b.f_favail), 1000)

    def test_concurrent_misses_cause_one_ufs_read_per_page(self):
        write_random(os.path.join(self.ufs, "data"), 4 * MiB)
        want = read_file(os.path.join(self.ufs, "data"))
        # direct_io: every reader's request reaches dorafs (the kernel page
        # cache would otherwise merge them before they get here).
        with self.mount(self.cache_opts(more="direct_io")) as m:
            barrier = threading.Barrier(8)
            results = []

            def reader():
                fd = os.open(os.path.join(self.mnt, "data"), os.O_RDONLY)
                try:
                    barrier.wait()
                    results.append(os.pread(fd, 4 * MiB, 0) == want)
                finally:
                    os.close(fd)
            threads = [threading.Thread(target=reader) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(results, [True] * 8)
            s = m.stats()
            self.assertEqual(s["ufs"]["bytes"], 4 * MiB, "a page was fetched more than once")
            self.assertEqual(s["page_cache"]["fetches"], 4)

    def test_kernel_cache_keeps_second_read_in_the_kernel(self):
        write_random(os.path.join(self.ufs, "data"), 2 * MiB)
        with self.mount(self.cache_opts(more="kernel_cache")) as m:
            read_file(os.path.join(self.mnt, "data"))
            before = m.stats()["page_cache"]["reads"]
            self.assertEqual(read_file(os.path.join(self.mnt, "data")), read_file(os.path.join(self.ufs, "data")))
            self.assertEqual(m.stats()["page_cache"]["reads"], before, "kernel_cache did not keep the pages")

    def test_direct_io_reads_are_exact(self):
        write_random(os.path.join(self.ufs, "data"), 3 * MiB + 17)
        want = read_file(os.path.join(self.ufs, "data"))
        with self.mount(self.cache_opts(more="direct_io")):
            fd = os.open(os.path.join(self.mnt, "data"), os.O_RDONLY)
            try:
                rnd = random.Random(3)
                for _ in range(100):
                    off = rnd.randrange(len(want) + 5)
                    size = rnd.choice([1, 4096, PAGE, PAGE + 1, 2 * PAGE])
                    self.assertEqual(os.pread(fd, size, off), want[off:off + size], (off, size))
            finally:
                os.close(fd)

    def test_listing_fills_attribute_cache(self):
        for i in range(200):
            write_random(os.path.join(self.ufs, "dir", f"f{i:03d}"), i)
        with self.mount(self.cache_opts()) as m:
            before = m.stats()["ufs"]
            names = sorted(os.listdir(os.path.join(self.mnt, "dir")))
            self.assertEqual(names, [f"f{i:03d}" for i in range(200)])
            sizes = [os.stat(os.path.join(self.mnt, "dir", n)).st_size for n in names]
            self.assertEqual(sizes, list(range(200)))
            after = m.stats()["ufs"]
            self.assertEqual(after["lists"] - before["lists"], 1)
            # One stat of the folder itself; none per file.
            self.assertLessEqual(after["stats"] - before["stats"], 2)
            # Names not in a fresh listing are answered without asking the UFS.
            for i in range(20):
                self.assertFalse(os.path.exists(os.path.join(self.mnt, "dir", f"missing{i}")))
            self.assertLessEqual(m.stats()["ufs"]["stats"] - before["stats"], 2)
            self.assertGreaterEqual(m.stats()["metadata_cache"]["negative_hits"], 20)

    def test_foreground_mount_and_lazy_unmount(self):
        write_random(os.path.join(self.ufs, "data"), 100)
        from dorafs_testlib import DORAFS, is_mounted
        p = subprocess.Popen([DORAFS, "mount", self.ufs, self.mnt, "-f", "-o", self.cache_opts()],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                if is_mounted(self.mnt):
                    break
                self.assertIsNone(p.poll(), "foreground mount exited")
                time.sleep(0.02)
            self.assertTrue(is_mounted(self.mnt))
            self.assertIsNone(p.poll(), "-f must stay in the foreground")
            f = open(os.path.join(self.mnt, "data"), "rb")
            try:
                r = run(DORAFS, "unmount", self.mnt, check=False)
                self.assertNotEqual(r.returncode, 0, "a busy mount should refuse a plain unmount")
                self.assertIn("busy", r.stderr.lower())
                run(DORAFS, "unmount", "-f", self.mnt)
                self.assertFalse(is_mounted(self.mnt))
                self.assertEqual(f.read(), read_file(os.path.join(self.ufs, "data")))
            finally:
                f.close()
            self.assertEqual(p.wait(timeout=20), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()

    def test_big_folder_lists_every_entry(self):
        # Big enough that the kernel falls back from READDIRPLUS to plain
        # READDIR for later batches (whose entries must not have d_ino 0).
        d = os.path.join(self.ufs, "big")
        os.makedirs(d)
        for i in range(3000):
            open(os.path.join(d, f"entry-{i:05d}"), "w").close()
        with self.mount(self.cache_opts()):
            for _ in range(2):
                self.assertEqual(sorted(os.listdir(os.path.join(self.mnt, "big"))),
                                 sorted(os.listdir(d)))
            out = subprocess.run(["ls", "-f", os.path.join(self.mnt, "big")], capture_output=True, text=True)
            self.assertEqual(len(out.stdout.split()), 3000 + 2)

    def test_without_page_cache(self):
        write_random(os.path.join(self.ufs, "data"), 2 * MiB + 1)
        with self.mount("local_metadata_cache_size=0") as m:
            self.assertEqual(read_file(os.path.join(self.mnt, "data")), read_file(os.path.join(self.ufs, "data")))
            s = m.stats()
            self.assertNotIn("page_cache", s)
            self.assertNotIn("metadata_cache", s)
            self.assertEqual(s["ufs"]["bytes"], 2 * MiB + 1)


if __name__ == "__main__":
    main()
