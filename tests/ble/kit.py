#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Prepares the ble suite's guest kit: a kernel and an initramfs for qemu.

Usage: kit.py KITDIR

Into KITDIR (normally <build>/tests/ble/kit) it puts:

  linux-image-*.deb  Debian's kernel package, the one `apt-cache depends
                     linux-image-amd64` names, fetched with `apt-get
                     download`.  It is never installed.
  vmlinux            the uncompressed kernel, taken from the xz payload of
                     the package's vmlinuz (qemu boots an ELF vmlinux
                     directly through its PVH entry point).
  initramfs.cpio     busybox-static, the modules of modules.txt and
                     initramfs-init as /init.
  kit.json           what was built from what, so that a later run with the
                     same inputs reuses the kit.

The package is downloaded once per build directory.  The vmlinux and the
initramfs are rebuilt when this script, modules.txt, initramfs-init or the
busybox binary change.  A failed download is an error with a message that
says what to do: the suite must never pass without having run.
"""
import fcntl
import hashlib
import json
import lzma
import os
import shutil
import stat
import struct
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODULES_LIST = os.path.join(HERE, "modules.txt")
INIT = os.path.join(HERE, "initramfs-init")
BUSYBOX = "/bin/busybox"
META_PACKAGE = "linux-image-amd64"
XZ_MAGIC = b"\xfd7zXZ\x00"


class KitError(Exception):
    """A failure with a sentence for the person reading the test log."""


def log(msg):
    print("kit: " + msg, flush=True)


def read_modules():
    """[(name, optional)] in load order, from modules.txt."""
    mods = []
    with open(MODULES_LIST, encoding="utf-8") as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) > 2 or (len(words) == 2 and words[1] != "optional"):
                raise KitError("modules.txt: cannot read line %r" % line.strip())
            mods.append((words[0], len(words) == 2))
    return mods


def inputs_digest():
    h = hashlib.sha256()
    for path in (os.path.abspath(__file__), MODULES_LIST, INIT):
        with open(path, "rb") as f:
            h.update(f.read())
    st = os.stat(BUSYBOX)
    h.update(("%d %d" % (st.st_size, st.st_mtime_ns)).encode())
    return h.hexdigest()


def kernel_package():
    """The versioned image package linux-image-amd64 depends on."""
    try:
        out = subprocess.run(["apt-cache", "depends", META_PACKAGE],
                             capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise KitError("apt-cache is missing: the ble suite needs a Debian "
                       "system to fetch its guest kernel") from None
    for line in out.stdout.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == "Depends:" and \
                words[1].startswith("linux-image-"):
            return words[1]
    raise KitError("`apt-cache depends %s` names no kernel image package "
                   "(exit %d: %s). Run `apt-get update` and try again."
                   % (META_PACKAGE, out.returncode, out.stderr.strip()))


def download(kitdir):
    """Returns the path of the kernel .deb, downloading it if not cached."""
    for name in sorted(os.listdir(kitdir)):
        if name.startswith("linux-image-") and name.endswith(".deb"):
            return os.path.join(kitdir, name)
    try:
        pkg = kernel_package()
        return fetch(kitdir, pkg)
    except KitError as e:
        if os.geteuid() != 0:
            raise
        # A fresh machine whose packages were all there may never have
        # read the archive's package lists: read them once, as root can.
        log("%s\nkit: running apt-get update, then trying again" % e)
        subprocess.run(["apt-get", "update", "-q"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return fetch(kitdir, kernel_package())


def fetch(kitdir, pkg):
    tmp = os.path.join(kitdir, "download.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    os.mkdir(tmp)
    cmd = ["apt-get", "download", "-q", pkg]
    if os.geteuid() == 0:
        # apt drops to the _apt user to download, which cannot write
        # into a build directory owned by root.
        cmd[1:1] = ["-o", "APT::Sandbox::User=root"]
    log("downloading %s (about 70 MB) with apt-get download" % pkg)
    t0 = time.monotonic()
    out = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True,
                         check=False)
    debs = [n for n in os.listdir(tmp) if n.endswith(".deb")]
    if out.returncode != 0 or len(debs) != 1:
        raise KitError(
            "could not download the guest kernel package %s for the ble "
            "test VM (`apt-get download %s` exited %d). The ble suite needs "
            "network access to the Debian archive once per build directory; "
            "run `apt-get update` if the package list is old.\n%s"
            % (pkg, pkg, out.returncode, (out.stdout + out.stderr).strip()))
    path = os.path.join(kitdir, debs[0])
    os.rename(os.path.join(tmp, debs[0]), path)
    os.rmdir(tmp)
    log("downloaded %s in %.1f s" % (debs[0], time.monotonic() - t0))
    return path


def module_file_names(mods):
    """Maps the .ko file names that may hold each module to the module."""
    names = {}
    for mod, _ in mods:
        for base in {mod, mod.replace("-", "_"), mod.replace("_", "-")}:
            for ext in (".ko", ".ko.xz"):
                names[base + ext] = mod
    return names


def extract(deb, kitdir, mods):
    """Reads the package's data once, keeping vmlinuz and our modules."""
    wanted = module_file_names(mods)
    found = {}
    vmlinuz = None
    release = None
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb],
                            stdout=subprocess.PIPE)
    with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
        for member in tar:
            if not member.isfile():
                continue
            parts = member.name.split("/")
            if len(parts) == 3 and parts[1] == "boot" and \
                    parts[2].startswith("vmlinuz-"):
                vmlinuz = tar.extractfile(member).read()
                release = parts[2][len("vmlinuz-"):]
            elif parts[-1] in wanted and "modules" in parts:
                data = tar.extractfile(member).read()
                if parts[-1].endswith(".xz"):
                    data = lzma.decompress(data)
                found[wanted[parts[-1]]] = data
    if proc.wait() != 0:
        raise KitError("dpkg-deb could not read %s (exit %d); delete it and "
                       "run the suite again" % (deb, proc.returncode))
    if vmlinuz is None:
        raise KitError("%s holds no boot/vmlinuz-*" % deb)
    missing = [m for m, _ in mods if m not in found]
    if missing:
        raise KitError("kernel %s has no module %s (modules.txt)"
                       % (release, ", ".join(missing)))
    return release, vmlinuz, found


def unpack_vmlinux(vmlinuz):
    """The ELF kernel inside a bzImage whose payload is xz-compressed."""
    pos = vmlinuz.find(XZ_MAGIC)
    while pos >= 0:
        dec = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        try:
            elf = dec.decompress(vmlinuz[pos:])
        except lzma.LZMAError:
            elf = b""
        if elf.startswith(b"\x7fELF"):
            return elf
        pos = vmlinuz.find(XZ_MAGIC, pos + 1)
    raise KitError("no xz-compressed ELF kernel found in vmlinuz "
                   "(looked for the %r marker)" % XZ_MAGIC)


def check_static(path):
    """busybox runs before any library is reachable: it must be static."""
    with open(path, "rb") as f:
        ehdr = f.read(64)
        if ehdr[:4] != b"\x7fELF" or ehdr[4] != 2:
            raise KitError("%s is not a 64-bit ELF program" % path)
        phoff, = struct.unpack_from("<Q", ehdr, 32)
        phentsize, phnum = struct.unpack_from("<HH", ehdr, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    for i in range(phnum):
        p_type, = struct.unpack_from("<I", table, i * phentsize)
        if p_type == 3:         # PT_INTERP: dynamically linked
            raise KitError("%s is dynamically linked: install the Debian "
                           "package busybox-static" % path)


class Cpio:
    """A newc archive, the format the kernel unpacks into its rootfs."""

    def __init__(self):
        self.data = bytearray()
        self.ino = 1

    def _entry(self, name, mode, body=b"", rdev=(0, 0)):
        fields = (self.ino, mode, 0, 0, 1, 0, len(body), 0, 0,
                  rdev[0], rdev[1], len(name) + 1, 0)
        self.ino += 1
        head = b"070701" + b"".join(b"%08X" % v for v in fields)
        self.data += head + name.encode() + b"\0"
        self.data += b"\0" * (-len(self.data) % 4)
        self.data += body
        self.data += b"\0" * (-len(self.data) % 4)

    def dir(self, name):
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name, body, perm=0o644):
        self._entry(name, stat.S_IFREG | perm, body)

    def chardev(self, name, major, minor):
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        self.data += b"\0" * (-len(self.data) % 512)
        return bytes(self.data)


def build_initramfs(mods, modules):
    check_static(BUSYBOX)
    cpio = Cpio()
    for d in ("bin", "dev", "proc", "sys", "newroot", "lib",
              "lib/modules"):
        cpio.dir(d)
    # The kernel opens /dev/console for /init before devtmpfs is mounted.
    cpio.chardev("dev/console", 5, 1)
    with open(BUSYBOX, "rb") as f:
        cpio.file("bin/busybox", f.read(), 0o755)
    with open(INIT, "rb") as f:
        cpio.file("init", f.read(), 0o755)
    order = []
    for mod, optional in mods:
        cpio.file("lib/modules/%s.ko" % mod, modules[mod])
        order.append(mod + (" optional" if optional else ""))
    cpio.file("lib/modules/order", ("\n".join(order) + "\n").encode())
    return cpio.finish()


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def prepare(kitdir):
    """Makes sure KITDIR holds a kit for the current inputs.

    Returns the kit description (a dict, as in kit.json).  Several test
    processes may call this at once: the first builds, the others wait."""
    os.makedirs(kitdir, exist_ok=True)
    t0 = time.monotonic()
    with open(os.path.join(kitdir, "lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        meta_path = os.path.join(kitdir, "kit.json")
        digest = inputs_digest()
        try:
            with open(meta_path, encoding="utf-8") as f:
                meta = json.load(f)
        except (OSError, ValueError):
            meta = {}
        if meta.get("inputs") == digest and all(
                os.path.exists(os.path.join(kitdir, meta.get(k, "-")))
                for k in ("vmlinux", "initramfs")):
            log("reusing the kit in %s (kernel %s)" % (kitdir, meta["release"]))
            return dict(meta, dir=kitdir)
        mods = read_modules()
        deb = download(kitdir)
        t1 = time.monotonic()
        release, vmlinuz, modules = extract(deb, kitdir, mods)
        write_atomic(os.path.join(kitdir, "vmlinux"), unpack_vmlinux(vmlinuz))
        write_atomic(os.path.join(kitdir, "initramfs.cpio"),
                     build_initramfs(mods, modules))
        meta = {"inputs": digest, "package": os.path.basename(deb),
                "release": release, "vmlinux": "vmlinux",
                "initramfs": "initramfs.cpio"}
        write_atomic(meta_path, json.dumps(meta, indent=1).encode())
        log("built the kit for kernel %s in %.1f s (%.1f s with the download)"
            % (release, time.monotonic() - t1, time.monotonic() - t0))
        return dict(meta, dir=kitdir)


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        prepare(os.path.abspath(sys.argv[1]))
    except KitError as e:
        print("kit: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
