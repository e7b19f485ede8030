# tests/systemd/generator.sh - run by tests/systemd.rs in each installation's
# root through tests/harness/systemd-root (as root, with systemd, our
# postmulti with --systemd-generator at /usr/sbin/postmulti, our unit and
# generator wrapper installed).  Makes the four-instance example of
# docs/systemd.md with our own postmulti, runs the generator as systemd
# would, Debian 12's own generator beside it, systemd-analyze verify on
# what was generated, and the commands of postmulti@.service by hand;
# everything it finds goes into /out/NAME files for the test to check.
set -u
cd /root
installation=$1

# cool: back-date every main.cf written in the last 10 s (Postfix pauses
# before it reads a "hot" main.cf).
cool() {
    local past=@$(($(date +%s) - 10))
    find /etc /srv -name main.cf -newermt "$past" -exec touch -d "$past" {} + 2>/dev/null
}

# step NAME COMMAND...: run COMMAND, its output into /out/NAME.{out,err,status}.
step() {
    local name=$1
    shift
    cool
    "$@" > "/out/$name.out" 2> "/out/$name.err"
    echo $? > "/out/$name.status"
}

# tree DIR: every entry under DIR, sorted; files with their content.
tree() {
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do
        if [ -L "$p" ]; then
            echo "== ${p#./} -> $(readlink "$p")"
        elif [ -d "$p" ]; then
            echo "== ${p#./}/"
        else
            echo "== ${p#./}"
            cat "$p"
        fi
    done)
}

# generate NAME: the installed generator, as systemd runs it, into fresh
# directories /run/gen/NAME{,.early,.late}; the tree into /out/NAME.tree.
generate() {
    local d=/run/gen/$1
    rm -rf "$d" "$d.early" "$d.late"
    mkdir -p "$d" "$d.early" "$d.late"
    step "$1" /usr/lib/systemd/system-generators/postmulti-instance-generator "$d" "$d.early" "$d.late"
    { tree "$d"; tree "$d.early"; tree "$d.late"; } > "/out/$1.tree"
}

# debian NAME: Debian 12's generator, into /run/gen/NAME; the tree too.
debian() {
    local d=/run/gen/$1
    rm -rf "$d" && mkdir -p "$d"
    step "$1" /lib/systemd/system-generators/postfix-instance-generator "$d" "$d" "$d"
    tree "$d" > "/out/$1.tree"
}

# verify NAME DIR: systemd-analyze verify of postfix.service (if there is
# one) and of every unit DIR's drop-in for postfix.service wants, with DIR
# as the generator directory (systemd-analyze reads /run/systemd/generator
# only when told, with SYSTEMD_UNIT_PATH), and of an instance of
# postmulti@.service; then again with a canary (see below) into
# NAME-canary.
verify() {
    local units=() u
    [ -e /usr/lib/systemd/system/postfix.service ] && units+=(postfix.service)
    for u in $(sed -n 's/^Wants=//p' "$2/postfix.service.d/50-postmulti.conf" 2>/dev/null); do
        units+=("$u")
    done
    units+=('postmulti@srv-postfix-other.service')
    rm -rf /run/systemd/generator
    mkdir -p /run/systemd
    cp -a "$2" /run/systemd/generator
    printf '%s\n' "${units[@]}" > "/out/$1.units"
    step "$1" env SYSTEMD_UNIT_PATH=/run/systemd/generator: \
        systemd-analyze verify --man=no --recursive-errors=yes "${units[@]}"
    # The canary: a bad key in a drop-in of the last wanted unit, there,
    # must be found (so verify did read the generator directory).
    u=${units[${#units[@]}-2]}
    mkdir -p "/run/systemd/generator/$u.d"
    printf '[Unit]\nCanary=1\n' > "/run/systemd/generator/$u.d/99-canary.conf"
    step "$1-canary" env SYSTEMD_UNIT_PATH=/run/systemd/generator: \
        systemd-analyze verify --man=no --recursive-errors=yes "${units[@]}"
    rm -rf /run/systemd/generator
}

# masters: which instances have a running master.
masters() {
    local q p
    for q in /var/spool/postfix /var/spool/postfix-out /var/spool/postfix-mx-in \
        /var/spool/postfix-hold /var/spool/postfix-relay; do
        p=$(tr -dc 0-9 < "$q/pid/master.pid" 2>/dev/null)
        if [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = master ] &&
            ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$p/stat"; then
            echo "$q running"
        else
            echo "$q stopped"
        fi
    done
}

# unit_command KEY: the command line of postmulti@.service's KEY (without
# systemd's "+" prefix), for the instance in /srv/postfix/relay.
unit_command() {
    sed -n "s/^$1=+\{0,1\}//p" /usr/lib/systemd/system/postmulti@.service |
        sed 's|%f|/srv/postfix/relay|g'
}

# ---- the four-instance example, made with our postmulti
step init postmulti -e init
step create-out postmulti -I postfix-out -e create
step create-mx-in postmulti -e create config_directory=/etc/postfix-mx-in \
    queue_directory=/var/spool/postfix-mx-in data_directory=/var/lib/postfix-mx-in
step create-hold postmulti -I postfix-hold -e create
step create-relay postmulti -I postfix-relay -e create config_directory=/srv/postfix/relay \
    queue_directory=/var/spool/postfix-relay data_directory=/var/lib/postfix-relay
step enable-out postmulti -i postfix-out -e enable
step enable-mx-in postmulti -i /etc/postfix-mx-in -e enable
step enable-relay postmulti -i postfix-relay -e enable
# A list with commas, and a comma followed by a space.
step comma-list postconf -e \
    'multi_instance_directories = /etc/postfix-out,/etc/postfix-mx-in, /etc/postfix-hold,/srv/postfix/relay'
step list postmulti -l

# ---- ours, as systemd runs it
if [ "$installation" = bookworm ]; then
    generate ours-unmasked
    mkdir -p /etc/systemd/system-generators
    step mask ln -s /dev/null /etc/systemd/system-generators/postfix-instance-generator
    debian debian
fi
generate ours
verify verify /run/gen/ours
# systemd itself runs every generator of the root, ours among them.
step verify-generators systemd-analyze verify --man=no --recursive-errors=yes --generators=yes \
    $(cat /out/verify.units)

# ---- postmulti@.service's commands, by hand, as systemd would run them
# (INVOCATION_ID set and /run/systemd/system there, as under systemd).
mkdir -p /run/systemd/system
export INVOCATION_ID=0123456789abcdef0123456789abcdef
unit_command ExecStartPre > /out/commands
unit_command ExecStart >> /out/commands
unit_command ExecStop >> /out/commands
step check $(unit_command ExecStartPre)
step start $(unit_command ExecStart)
step masters-started masters
step stop $(unit_command ExecStop)
step masters-stopped masters
unset INVOCATION_ID
rmdir /run/systemd/system

if [ "$installation" = bookworm ]; then
    step configure-instance /usr/lib/postfix/configure-instance.sh /srv/postfix/relay
fi

# ---- ours runs no process: the wrapper's sh, then postmulti, and nothing else.
rm -rf /run/gen/strace && mkdir -p /run/gen/strace
strace -f -qq -e trace=execve,fork,vfork,clone,clone3 -e signal=none -o /out/strace.log \
    /usr/lib/systemd/system-generators/postmulti-instance-generator /run/gen/strace
sed -E 's/^[0-9]+ +//; s/, 0x[0-9a-f]+ \/\* [0-9]+ vars \*\/\)/, ...)/' /out/strace.log > /out/strace

# ---- a whitespace list, then a broken main.cf
step space-list postconf -e \
    'multi_instance_directories = /etc/postfix-out /etc/postfix-mx-in /etc/postfix-hold /srv/postfix/relay'
generate space
if [ "$installation" = bookworm ]; then
    debian debian-space
fi
printf 'this is not a parameter\n' >> /etc/postfix-mx-in/main.cf
generate broken
verify verify-broken /run/gen/broken
if [ "$installation" = bookworm ]; then
    debian debian-broken
fi

# ---- systemd-escape -p, for the escaping test
for p in /etc/postfix-out /etc/postfix-mx-in /srv/postfix/relay /etc/postfix-a.b/ /.x \
    '/a//b' /a/./b / "/$(printf '\303\251') x:y_z\\%" '/a b@c+d=e~f'; do
    printf '%s\t%s\n' "$p" "$(systemd-escape -p -- "$p" 2>/dev/null)"
done > /out/escape
exit 0
