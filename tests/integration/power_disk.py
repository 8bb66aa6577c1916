# SPDX-License-Identifier: Apache-2.0
"""A disk that can lose its power: an ext4 file system on a loop device whose
state can be snapshotted as a power cut would leave it.

  image file (fully written, fsynced)  <- losetup --direct-io=on  <- /dev/loopN
  /dev/loopN  <- mkfs.ext4, mount -o commit=300

What the mounted file system has written to /dev/loopN is "on the disk";
what is still in its page cache (dirty file pages, delayed allocation,
uncommitted journal transactions) is not. With a 300 s journal commit
interval and the default 30 s dirty-page expiry, nothing reaches the device
within a short test unless a program forces it (fsync, fdatasync, syncfs).
snapshot() reads the device with O_DIRECT right after the writer was killed,
without unmounting (umount would write the page cache out): that copy is the
power-loss image. attach() mounts such an image on a new loop device, which
replays the ext4 journal as a reboot would.

Needs root, losetup, mkfs.ext4 and loop devices; unavailable() says what is
missing. Every loop device and mount is unique (losetup -f --show, mkdtemp)
and close() releases them within a bounded time, so tests running in
parallel are not disturbed."""
import os
import shutil
import subprocess
from pathlib import Path

CMD_TIMEOUT = 60
CHUNK = 1 << 20
TOOLS = ("losetup", "mkfs.ext4", "mount", "umount", "dd")


def unavailable():
    """Why a power-loss disk cannot be made here, or None."""
    if os.geteuid() != 0:
        return "needs root (losetup, mount)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"missing tools: {', '.join(missing)}"
    if not os.path.exists("/dev/loop-control"):
        return "no /dev/loop-control (loop devices unavailable)"
    r = subprocess.run(["losetup", "-f"], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=CMD_TIMEOUT)
    if r.returncode != 0:
        return f"losetup -f finds no free loop device: {r.stderr.strip()}"
    return None


def _run(argv, timeout=CMD_TIMEOUT):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): "
                           f"{r.stderr.strip() or r.stdout.strip()}")
    return r.stdout.strip()


class Mount:
    """One loop device with a mounted ext4 on it."""

    def __init__(self, image, mnt, fresh, options):
        self.image, self.mnt, self.dev = Path(image), Path(mnt), None
        self.dio = False
        self.mnt.mkdir(parents=True, exist_ok=True)
        argv = ["losetup", "-f", "--show"] + (["--direct-io=on"] if fresh else [])
        self.dev = _run(argv + [str(self.image)])
        try:
            with open(f"/sys/block/{os.path.basename(self.dev)}/loop/dio") as f:
                self.dio = f.read().strip() == "1"
        except OSError:
            pass
        try:
            if fresh:
                # Inode tables and journal zeroed now, not by ext4lazyinit
                # in the background while the test runs.
                _run(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0",
                      self.dev])
            _run(["mount", "-t", "ext4", "-o", options, self.dev, str(self.mnt)])
        except Exception:
            self._detach()
            raise

    def snapshot(self, path):
        """Copy what the device holds (not the page cache above it) to path."""
        _run(["dd", f"if={self.dev}", f"of={path}", "bs=1M", "iflag=direct", "status=none"])

    def _detach(self):
        if self.dev is not None:
            subprocess.run(["losetup", "-d", self.dev], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=CMD_TIMEOUT)
            self.dev = None

    def close(self):
        """Unmount (lazily if still busy) and detach; never raises."""
        if self.dev is None:
            return
        try:
            if os.path.ismount(self.mnt):
                r = subprocess.run(["umount", str(self.mnt)], stdin=subprocess.DEVNULL,
                                   capture_output=True, timeout=CMD_TIMEOUT)
                if r.returncode != 0:
                    subprocess.run(["umount", "-l", str(self.mnt)], stdin=subprocess.DEVNULL,
                                   capture_output=True, timeout=CMD_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        try:
            self._detach()
        except subprocess.TimeoutExpired:
            pass


class PowerLossDisk:
    """Images and mounts under workdir; close() releases every mount."""

    def __init__(self, workdir, size_mib=256):
        self.workdir = Path(workdir)
        self.size_mib = size_mib
        self.mounts = []

    def create(self, name="disk"):
        """A fresh ext4 on a fully allocated image, mounted with a long
        commit interval."""
        image = self.workdir / f"{name}.img"
        zero = bytes(CHUNK)
        with open(image, "wb") as f:
            for _ in range(self.size_mib):
                f.write(zero)
            f.flush()
            os.fsync(f.fileno())
        return self._mount(image, name, True, "commit=300")

    def attach(self, image, name):
        """Mount a power-loss image (ext4 replays its journal)."""
        return self._mount(image, name, False, "commit=300")

    def _mount(self, image, name, fresh, options):
        m = Mount(image, self.workdir / f"{name}.mnt", fresh, options)
        self.mounts.append(m)
        return m

    def close(self):
        for m in reversed(self.mounts):
            m.close()
        self.mounts.clear()
