"""The mount's control socket: `dorafs stat` asks the daemon over a per-mount
abstract unix socket, and the daemon implements no getxattr/listxattr, so the
kernel answers xattr requests itself after the first (ls -l used to send two
GETXATTR round trips per entry)."""
import errno
import os
import signal
import subprocess
import sys
import time

from dorafs_testlib import DORAFS, Mount, MountTestCase, is_mounted, main, read_file, run, write_random

NOT_SUPPORTED = (errno.ENOTSUP, errno.EOPNOTSUPP)


def daemon_pid(mnt):
    r = subprocess.run(["pgrep", "-f", f"dorafs mount .* {mnt}( |$)"], capture_output=True, text=True)
    pids = r.stdout.split()
    return int(pids[0]) if len(pids) == 1 else None


class ControlSocketTest(MountTestCase):
    def socket_name(self):
        """The abstract name (without its leading NUL) the mount's daemon listens on."""
        pid = daemon_pid(self.mnt)
        ss = subprocess.run(["ss", "-xlpn"], capture_output=True, text=True).stdout
        names = [w for line in ss.splitlines() if f"pid={pid}," in line
                 for w in line.split() if w.startswith("@dorafs/")]
        self.assertEqual(len(names), 1, ss)
        return names[0][1:]

    def one_line_error(self, *args):
        r = run(DORAFS, *args, check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, f"want one line, got: {r.stderr!r}")
        return lines[0]

    def test_stat_and_json(self):
        write_random(os.path.join(self.ufs, "a"), 5000)
        with self.mount() as m:
            self.assertEqual(read_file(os.path.join(self.mnt, "a")), read_file(os.path.join(self.ufs, "a")))
            s = m.stats()
            self.assertEqual(s["ufs_uri"], self.ufs)
            self.assertGreaterEqual(s["ufs"]["bytes"], 5000)
            human = run(DORAFS, "stat", self.mnt).stdout
            self.assertIn(f"mount        {self.mnt}", human)
            self.assertIn("ufs reads", human)
            # Any spelling of the mount point names the same socket.
            link = os.path.join(self.tmp, "link")
            os.symlink(self.mnt, link)
            self.assertEqual(run(DORAFS, "stat", "--json", link + "/").returncode, 0)
            self.assertEqual(run(DORAFS, "stat", "--json", os.path.join(self.mnt, "..", "mnt")).returncode, 0)

    def test_xattrs_never_reach_the_daemon(self):
        d = os.path.join(self.ufs, "many")
        os.makedirs(d)
        for i in range(1000):
            open(os.path.join(d, f"f{i:04d}"), "w").close()
        log_path = os.path.join(self.tmp, "fuse-debug.log")
        # -d: libfuse logs every request the kernel sends (and stays in the foreground).
        with open(log_path, "w") as log:
            p = subprocess.Popen([DORAFS, "mount", self.ufs, self.mnt, "-d"], stdout=log, stderr=log)
        try:
            for _ in range(250):
                if is_mounted(self.mnt):
                    break
                self.assertIsNone(p.poll(), "the debug mount exited")
                time.sleep(0.02)
            self.assertTrue(is_mounted(self.mnt))
            for path in (self.mnt, os.path.join(self.mnt, "many", "f0007")):
                with self.assertRaises(OSError) as cm:
                    os.getxattr(path, "user.x")
                self.assertIn(cm.exception.errno, NOT_SUPPORTED)
                with self.assertRaises(OSError) as cm:
                    os.getxattr(path, "user.dorafs.stats")
                self.assertIn(cm.exception.errno, NOT_SUPPORTED)
            ls = subprocess.run(["ls", "-l", os.path.join(self.mnt, "many")], capture_output=True, text=True,
                                timeout=60)
            self.assertEqual(ls.returncode, 0, ls.stderr)
            self.assertEqual(len(ls.stdout.splitlines()), 1000 + 1)  # + "total"
            for name in os.listdir(os.path.join(self.mnt, "many"))[:200]:
                path = os.path.join(self.mnt, "many", name)
                for call in (lambda: os.getxattr(path, "security.selinux"), lambda: os.listxattr(path)):
                    try:
                        call()
                    except OSError as e:
                        self.assertIn(e.errno, NOT_SUPPORTED)
            # The counters come over the socket, not the mount.
            self.assertEqual(run(DORAFS, "stat", "--json", self.mnt).returncode, 0)
            run(DORAFS, "unmount", self.mnt)
            self.assertEqual(p.wait(timeout=30), 0)
        finally:
            if p.poll() is None:
                force_kill(p)
        with open(log_path, errors="replace") as f:
            log = f.read()
        self.assertIn("opcode: READDIRPLUS", log)
        # The first xattr request is answered ENOSYS; the kernel never asks again.
        self.assertLessEqual(log.count("opcode: GETXATTR"), 1)
        self.assertLessEqual(log.count("opcode: LISTXATTR"), 1)

    def test_plain_folder_and_other_mounts(self):
        line = self.one_line_error("stat", self.ufs)
        self.assertIn(f"'{self.ufs}' is not a running dorafs mount (not a mount point)", line)
        line = self.one_line_error("stat", "--json", "/proc")
        self.assertIn("'/proc' is not a running dorafs mount (it is a proc mount)", line)
        line = self.one_line_error("stat", os.path.join(self.tmp, "no-such-folder"))
        self.assertIn("no-such-folder", line)
        line = self.one_line_error("workers", "--mount", self.ufs)
        self.assertIn("not a running dorafs mount", line)

    def test_two_mounts_have_their_own_sockets(self):
        ufs2, mnt2 = os.path.join(self.tmp, "ufs2"), os.path.join(self.tmp, "mnt2")
        os.makedirs(ufs2)
        os.makedirs(mnt2)
        self.extra_mounts = [mnt2]
        write_random(os.path.join(self.ufs, "one"), 1000)
        write_random(os.path.join(ufs2, "two"), 3000)
        with self.mount() as m1, Mount(ufs2, mnt2) as m2:
            read_file(os.path.join(mnt2, "two"))
            s1, s2 = m1.stats(), m2.stats()
            self.assertEqual(s1["ufs_uri"], self.ufs)
            self.assertEqual(s2["ufs_uri"], ufs2)
            self.assertEqual(s1["ufs"]["bytes"], 0)
            self.assertEqual(s2["ufs"]["bytes"], 3000)
            m2.unmount()
            self.assertIn("not a mount point", self.one_line_error("stat", mnt2))
            self.assertEqual(m1.stats()["ufs_uri"], self.ufs)
        # Gone with its mount, and free for the next mount of the same path.
        self.assertIn("not a mount point", self.one_line_error("stat", self.mnt))
        with self.mount() as m:
            self.assertEqual(m.stats()["ufs_uri"], self.ufs)

    def test_stuck_daemon_times_out(self):
        with self.mount():
            pid = daemon_pid(self.mnt)
            self.assertIsNotNone(pid)
            os.kill(pid, signal.SIGSTOP)
            try:
                start = time.monotonic()
                line = self.one_line_error("stat", self.mnt)
                took = time.monotonic() - start
            finally:
                os.kill(pid, signal.SIGCONT)
            self.assertIn(f"the dorafs daemon of '{self.mnt}' did not answer within 5 s", line)
            self.assertGreater(took, 4)
            self.assertLess(took, 15)
            self.assertEqual(run(DORAFS, "stat", "--json", self.mnt).returncode, 0)

    def test_trickling_client_cannot_hold_the_socket(self):
        # A client that sends a byte every 0.5 s, never a whole line: the
        # daemon's single thread gives the exchange 2 s in all, so another
        # `dorafs stat` gets its answer instead of timing out behind it.
        import socket
        import threading
        with self.mount():
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect("\0" + self.socket_name())
            closed_after = []

            def trickle():
                start = time.monotonic()
                try:
                    for _ in range(40):
                        c.send(b"s")
                        time.sleep(0.5)
                except OSError:
                    pass
                closed_after.append(time.monotonic() - start)

            t = threading.Thread(target=trickle)
            t.start()
            try:
                time.sleep(0.3)
                start = time.monotonic()
                self.assertEqual(run(DORAFS, "stat", "--json", self.mnt).returncode, 0)
                self.assertLess(time.monotonic() - start, 4)
            finally:
                t.join(timeout=30)
                c.close()
            self.assertLess(closed_after[0], 6)

    def test_other_users_are_refused(self):
        with self.mount():
            r = run(DORAFS, "stat", self.mnt, check=False, preexec_fn=lambda: os.setuid(65534))
            self.assertEqual(r.returncode, 1)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertIn("permission denied", r.stderr)

    def test_squatted_name_is_not_trusted(self):
        # The name lives in the abstract namespace, where any user may bind
        # it. A listener of another user must not pass off its answer as
        # the mount's counters.
        with self.mount():
            name = self.socket_name()
        squatter = subprocess.Popen(
            [sys.executable, "-c",
             "import os, socket, sys\n"
             "os.setuid(65534)\n"
             "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
             "s.bind('\\0' + sys.argv[1]); s.listen(4); print('ready', flush=True)\n"
             "while True:\n"
             "    c, _ = s.accept(); c.recv(100)\n"
             "    c.sendall(b'{\"ufs_uri\": \"fake\"}\\n'); c.close()\n",
             name],
            stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(squatter.stdout.readline().strip(), "ready")
            r = run(DORAFS, "stat", "--json", self.mnt, check=False)
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertNotIn("fake", r.stdout)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertIn("is held by uid 65534", r.stderr)
            self.assertIn("not trusted", r.stderr)
        finally:
            force_kill(squatter)

    def test_second_mount_over_the_same_path_warns(self):
        with self.mount() as m:
            # Mounted over the first: the name is taken, the mount still works.
            r = run(DORAFS, "mount", self.ufs, self.mnt, check=False)
            try:
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("warning: another mount of", r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertEqual(os.listdir(self.mnt), [])
            finally:
                run(DORAFS, "unmount", self.mnt, check=False)
            self.assertTrue(is_mounted(self.mnt))
            self.assertEqual(m.stats()["ufs_uri"], self.ufs)


def force_kill(p):
    p.kill()
    p.wait()


if __name__ == "__main__":
    main()
