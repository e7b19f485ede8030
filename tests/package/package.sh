# tests/package/package.sh - run by tests/package.rs through
# tests/harness/package-root, beside a throw-away copy of an
# installation's root ($R) with our package at /tmp/postmulti-rs.deb.
# Takes the package through its life as an administrator would: dpkg -i
# (twice, as an upgrade does), instances made, postfix start and stop through the wrapper, the manual
# page, the completions, the generator, apt-get install --reinstall
# postfix, dpkg -r, dpkg -P; then, with Postfix purged, apt-get install of
# the package (which brings Postfix) and apt-get purge.  Everything it finds goes into NAME files in
# the working directory (OUTDIR) for the test to check; it judges nothing
# itself.
set -u
. "$HARNESS_DIR/lib.sh"

# Every path a step may change that the test looks at, Postfix's and ours.
WATCHED=(/usr/sbin/postmulti /usr/sbin/postmulti.postfix
    /usr/share/man/man1/postmulti.1.gz /usr/share/man/man1/postmulti.postfix.1.gz
    /lib/systemd/system-generators/postfix-instance-generator
    /lib/systemd/postfix-instance-generator.postfix)

# in_root COMMAND...: COMMAND in the root, as root, in the harness's
# fixed environment.
in_root() {
    chroot "$R" /usr/bin/env -i "${ROOT_ENV[@]}" DEBIAN_FRONTEND=noninteractive "$@"
}

# cool: back-date every main.cf written in the last 10 s (Postfix pauses
# before it reads a "hot" main.cf).
cool() {
    local past=@$(($(date +%s) - 10))
    find "$R/etc" -name main.cf -newermt "$past" -exec touch -d "$past" {} + 2>/dev/null
}

# step NAME COMMAND...: COMMAND here, its output into NAME.{out,err,status}.
step() {
    local name=$1
    shift
    cool
    "$@" > "$name.out" 2> "$name.err"
    echo $? > "$name.status"
}

# md5s NAME: the md5 of each watched path ("-" if it is not a file), into
# NAME.md5.
md5s() {
    local p
    for p in "${WATCHED[@]}"; do
        if [ -f "$R$p" ] && [ ! -L "$R$p" ]; then
            echo "$(md5sum < "$R$p" | cut -d' ' -f1)  $p"
        else
            echo "-  $p"
        fi
    done > "$1.md5"
}

# paths NAME: every path in the root's own file system, into NAME.paths.
paths() {
    (cd "$R" && find . -xdev | sed 's|^\.||' | LC_ALL=C sort) > "$1.paths"
}

# complete WORD...: the bash completion of the last WORD, with our
# completion script, in the root's bash.
bash_complete() {
    in_root bash --norc -c '. /usr/share/bash-completion/completions/postmulti
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _postmulti
        printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort' bash "$@"
}

# where_man PAGE: where man finds PAGE, as a path in the root: the root's
# man if it has one, else this machine's, on the root's manual pages.
where_man() {
    if [ -x "$R/usr/bin/man" ]; then
        in_root man -w "$1"
    else
        man -M "$R/usr/share/man" -w "$1" | sed "s|^$R||"
    fi
}

# man_warnings FILE: what man --warnings says about the page FILE.
man_warnings() {
    man --warnings -l "$1" > /dev/null
}

# text FILE: the manual page FILE as man shows it, one paragraph a line.
text() {
    MANWIDTH=10000 man -l "$R$1" 2>/dev/null | col -b
}

# ------------------------------------------------------------ installed
cp "$R/var/lib/dpkg/info/postfix.md5sums" postfix.md5sums
dpkg-deb -c "$R/tmp/postmulti-rs.deb" | awk '{ sub(/^\./, "", $6); print $6 }' > contents
paths before
step verify-before in_root dpkg --verify postfix
md5s before
step install in_root dpkg -i /tmp/postmulti-rs.deb
cp "$R/var/lib/dpkg/info/postmulti-rs.md5sums" ours.md5sums
md5s installed
step diversions in_root dpkg-divert --list
step install-again in_root dpkg -i /tmp/postmulti-rs.deb
md5s installed-again
step diversions-again in_root dpkg-divert --list
step version in_root postmulti --version
step list-empty in_root postmulti -l

# The wrapper: after init, postfix start and stop go through our
# /usr/sbin/postmulti; --status (ours only) sees what they did.
step init in_root postmulti -e init
step create-a in_root postmulti -I postfix-a -e create
step create-b in_root postmulti -I postfix-b -G mta -e create
step enable-a in_root postmulti -i postfix-a -e enable
step list in_root postmulti -l
step wrapper in_root postconf -h multi_instance_wrapper command_directory
step start in_root postfix start
step started in_root postmulti -l --status
step stop in_root postfix stop
step stopped in_root postmulti -l --status

# The manual page: ours where man looks, Postfix's beside it.
step man-where where_man postmulti
step man-where-postfix where_man postmulti.postfix
if command -v man >/dev/null; then
    step man-warnings man_warnings "$R/usr/share/man/man1/postmulti.1.gz"
    text /usr/share/man/man1/postmulti.1.gz > man-ours.txt
    text /usr/share/man/man1/postmulti.postfix.1.gz > man-postfix.txt
fi

# The completions: each loads in its shell (the root's, or this
# machine's, if either has it); bash's offers what it should.
step bash-load in_root bash --norc -c '. /usr/share/bash-completion/completions/postmulti && complete -p postmulti'
zsh_file=/usr/share/zsh/vendor-completions/_postmulti
# shellcheck disable=SC2016 # for zsh
zsh_load='autoload -Uz compinit && compinit -u -D && source "$1" && print -r -- $_comps[postmulti]'
if [ -x "$R/usr/bin/zsh" ]; then
    step zsh-load in_root zsh -f -c "$zsh_load" zsh "$zsh_file"
elif command -v zsh >/dev/null; then
    step zsh-load zsh -f -c "$zsh_load" zsh "$R$zsh_file"
fi
fish_file=/usr/share/fish/vendor_completions.d/postmulti.fish
# shellcheck disable=SC2016 # for fish
fish_load='source $argv[1]; and complete -C "postmulti -e "'
if [ -x "$R/usr/bin/fish" ]; then
    step fish-load in_root fish --no-config -c "$fish_load" "$fish_file"
elif command -v fish >/dev/null; then
    step fish-load fish --no-config -c "$fish_load" "$R$fish_file"
fi
step complete-i bash_complete postmulti -i ''
step complete-g bash_complete postmulti -g ''
step complete-G bash_complete postmulti -I postfix-c -G ''
step complete-e bash_complete postmulti -e ''
step complete-p bash_complete postmulti -p ''
step complete-long bash_complete postmulti -l --st

# The generator: ours is the only instance generator systemd would run.
step generators ls "$R/usr/lib/systemd/system-generators"
step generate in_root sh -c 'mkdir -p /run/gen &&
    /usr/lib/systemd/system-generators/postmulti-instance-generator /run/gen /run/gen /run/gen &&
    cat /run/gen/postfix.service.d/50-postmulti.conf'

# ------------------------------------------------- postfix reinstalled
ls "$R/var/cache/apt/archives/" > archives
step reinstall in_root apt-get install --reinstall -y -qq --no-download postfix
md5s reinstalled
step diversions-reinstalled in_root dpkg-divert --list
step version-reinstalled in_root postmulti --version

# -------------------------------------------------------------- removed
step remove in_root dpkg -r postmulti-rs
md5s removed
step diversions-removed in_root dpkg-divert --list
step verify-removed in_root dpkg --verify postfix
step list-removed in_root postmulti -l
step cache-removed ls "$R/var/cache/postmulti"

# --------------------------------------------------------------- purged
step purge in_root dpkg -P postmulti-rs
paths purged
step query-purged in_root dpkg-query -W postmulti-rs

# ------------------------------------------------------ the README's way
# Where Postfix is not installed yet, apt installs it with the package
# (the root's postfix .deb is in its cache: no network), and apt-get purge
# takes the package away again.
step purge-postfix in_root dpkg --purge postfix
step apt-install in_root apt-get install -y -q --no-install-recommends /tmp/postmulti-rs.deb
step diversions-apt in_root dpkg-divert --list
step version-apt in_root postmulti --version
step list-apt in_root postmulti -l
step apt-purge in_root apt-get purge -y -q postmulti-rs
step diversions-apt-purged in_root dpkg-divert --list
md5s apt-purged
