"""make install: the documented layout under DESTDIR, and an existing
cairn.conf is never overwritten."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import BUILD, run_tests  # noqa: E402


# A clean make: not the one running `make check` (its flags would leak in).
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}


def make_var(name):
    out = subprocess.run(["make", "-s", "-C", BUILD, "--no-print-directory",
                          "-f", "Makefile", "-f", "-", "print-var"],
                         input="print-var:\n\t@echo $(%s)\n" % name,
                         capture_output=True, text=True, check=True, env=CLEAN_ENV).stdout
    return out.strip()


def install(destdir):
    p = subprocess.run(["make", "-s", "-C", BUILD, "install", "DESTDIR=" + destdir],
                       capture_output=True, text=True, timeout=300, env=CLEAN_ENV)
    assert p.returncode == 0, p.stdout + p.stderr


def test_install_layout_under_destdir():
    dest = tempfile.mkdtemp(prefix="cairn-install-")
    try:
        install(dest)
        sbindir, libexecdir = make_var("sbindir"), make_var("libexecdir")
        mandir, sysconfdir = make_var("mandir"), make_var("sysconfdir")
        bindir = make_var("bindir")
        expected = [
            sbindir + "/cairnd", sbindir + "/cairnctl",
            libexecdir + "/cairn/cairn-imapd", libexecdir + "/cairn/cairn-authd",
            libexecdir + "/cairn/cairn-lmtpd",
            bindir + "/cairn-deliver", mandir + "/man8/cairn-deliver.8",
            mandir + "/man5/cairn.conf.5", mandir + "/man8/cairnd.8",
            mandir + "/man8/cairn-imapd.8", mandir + "/man8/cairn-authd.8",
            mandir + "/man8/cairn-lmtpd.8",
            mandir + "/man8/cairnctl.8", sysconfdir + "/cairn/cairn.conf.sample",
        ]
        for path in expected:
            assert os.path.isfile(dest + path), "missing " + path
        for path in expected[:6]:
            assert os.access(dest + path, os.X_OK), path
        # the installed master looks for its children where they were installed
        out = subprocess.run(["strings", dest + sbindir + "/cairnd"],
                             capture_output=True, text=True).stdout
        assert libexecdir + "/cairn" in out
        # the systemd unit, when configure found where units go
        unitdir = make_var("systemdsystemunitdir")
        if unitdir:
            with open(dest + unitdir + "/cairn.service") as f:
                unit = f.read()
            assert "ExecStart=%s/cairnd -F\n" % sbindir in unit, unit
            assert "Type=notify\n" in unit and "@" not in unit, unit
        # the sample is a valid configuration as it stands
        p = subprocess.run([dest + sbindir + "/cairnd", "-n", "-c",
                            dest + sysconfdir + "/cairn/cairn.conf.sample"],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        # an administrator's cairn.conf survives a reinstall
        conf = dest + sysconfdir + "/cairn/cairn.conf"
        with open(conf, "w") as f:
            f.write("log-level = debug\n")
        install(dest)
        assert open(conf).read() == "log-level = debug\n"
    finally:
        shutil.rmtree(dest, ignore_errors=True)


if __name__ == "__main__":
    run_tests([test_install_layout_under_destdir])
