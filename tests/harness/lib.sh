# shellcheck shell=bash disable=SC2034
# tests/harness/lib.sh - sourced by make-root and run-scenario.
#
# Owns: locating the test root (default paths), and building the private
# run-time file systems (/proc, /dev, /tmp, /run) inside a root.  The mount
# functions must only be called inside a private mount namespace (unshare
# --mount), so every mount disappears with it.

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$HARNESS_DIR/../.." && pwd)

# root_of INSTALLATION: where make-root keeps that installation's root (its
# pristine Postfix state and the copy of its real postmulti beside it).
root_of() {
    echo "${POSTMULTI_ROOTS:-$REPO_DIR/target/roots}/$1"
}

# The root a scenario runs in (default: sid's).
TEST_ROOT=${POSTMULTI_TEST_ROOT:-$(root_of sid)}

# The environment of every command run inside a root.
ROOT_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    HOME=/root LANG=C USER=root LOGNAME=root SHELL=/bin/bash)

die() { echo "${0##*/}: $*" >&2; exit 70; }

# mount_runtime ROOT: /proc of the current pid namespace, a private /dev
# (bind mounts of the host's character devices, a private devpts), fresh
# tmpfs on /tmp, /var/tmp and /run.
mount_runtime() {
    local r=$1 n
    mount -t proc proc "$r/proc" || die "mount $r/proc"
    mount -t tmpfs -o mode=0755 harness-dev "$r/dev" || die "mount $r/dev"
    for n in null zero full random urandom tty; do
        touch "$r/dev/$n" || die "touch $r/dev/$n"
        mount --bind "/dev/$n" "$r/dev/$n" || die "bind /dev/$n"
    done
    mkdir -p "$r/dev/pts" "$r/dev/shm"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$r/dev/pts" &&
        ln -s pts/ptmx "$r/dev/ptmx"
    mount -t tmpfs -o mode=1777 harness-shm "$r/dev/shm"
    ln -s /proc/self/fd "$r/dev/fd"
    ln -s /proc/self/fd/0 "$r/dev/stdin"
    ln -s /proc/self/fd/1 "$r/dev/stdout"
    ln -s /proc/self/fd/2 "$r/dev/stderr"
    mount -t tmpfs -o mode=1777 harness-tmp "$r/tmp"
    mount -t tmpfs -o mode=1777 harness-vartmp "$r/var/tmp"
    mount -t tmpfs -o mode=0755 harness-run "$r/run"
    mkdir -p "$r/run/lock"
}

# mount_overlay LOWER SCRATCH: a tmpfs on SCRATCH holding an overlayfs whose
# lower layer is a read-only bind mount of LOWER; the merged root is
# SCRATCH/root.  Every write lands in SCRATCH/upper and is lost with the
# namespace.
mount_overlay() {
    local lower=$1 t=$2
    mount -t tmpfs -o mode=0755,size=4g harness-scratch "$t" || die "mount tmpfs on $t"
    mkdir -p "$t/lower" "$t/upper" "$t/work" "$t/root"
    mount --bind "$lower" "$t/lower" || die "bind $lower"
    mount -o remount,bind,ro "$t/lower" 2>/dev/null
    mount -t overlay harness-root -o "lowerdir=$t/lower,upperdir=$t/upper,workdir=$t/work" \
        "$t/root" || die "overlay mount failed (is overlayfs available?)"
}

# kill_all_but_me: kill every other process of this pid namespace (all were
# started by us), by pid.
kill_all_but_me() {
    local p
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" = 1 ] || [ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] && continue
        kill -KILL "$p" 2>/dev/null
    done
}
