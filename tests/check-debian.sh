#!/bin/sh
# check-debian.sh TARBALL: the Debian packages, built and used as an
# operator would, in a throwaway root, so that the machine (used again
# for other work) keeps nothing of them:
#  1. dpkg-buildpackage -us -uc -b in the unpacked release tarball;
#  2. lintian on the .changes: no errors (its other tags are printed);
#  3. a Debian 12 root (debootstrap --variant=minbase) in a temporary
#     folder, where apt installs the packages with Apache, mod_fcgid and
#     PostgreSQL 15;
#  4. PostgreSQL and Apache started in it on free loopback ports (the
#     root shares the machine's network), the schema loaded as
#     README.Debian says, `a2enconf pgsse`: the demo page, a fragment,
#     and an event on a stream must come through Apache;
#  5. the packages purged: nothing of pgsse may be left, and Apache's
#     configuration must still parse.
# The root is unmounted and removed on every exit. Needs root,
# dpkg-dev, debhelper, lintian, debootstrap, curl, ss, and a Debian
# mirror (MIRROR, default http://deb.debian.org/debian). Every wait is
# bounded; each step prints the time since the start.
set -eu
tarball=${1:?usage: check-debian.sh TARBALL}
src=${PGSSE_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
mirror=${MIRROR:-http://deb.debian.org/debian}
suite=bookworm
pkgs="pgsse pgsse-common libpgsse1 libpgsse-dev"
# Bounds, in seconds.
apt_max=900
start_max=60

start=$(date +%s)
step() { echo "check-debian: $* ($(($(date +%s) - start)) s)"; }
die() { echo "check-debian: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount)"
for c in dpkg-buildpackage lintian debootstrap chroot curl ss timeout; do
	command -v "$c" >/dev/null || die "no $c: bin/install-deps installs it"
done
[ -f "$tarball" ] || die "no $tarball: make dist makes it"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-debian.XXXXXX")
root=$tmp/root

# Runs a command in the root, with a clean environment.
clean_env="/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
	DEBIAN_FRONTEND=noninteractive"
# shellcheck disable=SC2086
in_root() { chroot "$root" $clean_env "$@"; }

# Kills what still runs in the root (found by its root folder), unmounts
# what was mounted there, and removes the temporary folder, never
# crossing into a mount that is still there.
cleanup() {
	rc=$?
	trap - EXIT INT TERM
	if [ -d "$root/proc/1" ]; then
		# shellcheck disable=SC2086
		timeout 20 chroot "$root" $clean_env apache2ctl stop \
			>/dev/null 2>&1 || true
		# shellcheck disable=SC2086
		timeout 20 chroot "$root" $clean_env pg_ctlcluster 15 main stop \
			-m fast >/dev/null 2>&1 || true
	fi
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] &&
			kill -9 "${p#/proc/}" 2>/dev/null
	done
	for m in dev/shm dev/pts proc; do
		if mountpoint -q "$root/$m" 2>/dev/null; then
			umount "$root/$m" 2>/dev/null || umount -l "$root/$m" || true
		fi
	done
	if grep -q " $tmp/" /proc/mounts; then
		echo "check-debian: still mounted under $tmp; not removed" >&2
		rc=1
	else
		rm -rf --one-file-system "$tmp"
	fi
	step "exit $rc"
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A free TCP port on the loopback, from 30000-49999.
free_port() {
	i=0
	while [ $i -lt 100 ]; do
		p=$(($(od -An -N2 -tu2 /dev/urandom) % 20000 + 30000))
		if [ -z "$(ss -Hltn "sport = :$p")" ] && [ "$p" != "${1:-}" ]; then
			echo "$p"
			return 0
		fi
		i=$((i + 1))
	done
	die "no free port"
}

# 1. Build, from the release tarball as Debian does (the .orig.tar.gz).
name=$(basename "$tarball" .tar.gz)
version=${name#pgsse-}
mkdir "$tmp/build"
cp "$tarball" "$tmp/build/pgsse_$version.orig.tar.gz"
tar -xzf "$tarball" -C "$tmp/build"
tree=$tmp/build/$name
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	for f in $(git -C "$src" ls-files debian); do
		[ -e "$tree/$f" ] || die "$f is not in the tarball: add it to EXTRA_DIST"
	done
fi
(cd "$tree" && dpkg-buildpackage -us -uc -b -J"$(nproc)") \
	>"$tmp/build.log" 2>&1 || { tail -n 40 "$tmp/build.log"; die "dpkg-buildpackage"; }
grep -E '^# (TOTAL|PASS|FAIL)' "$tmp/build.log" | sed 's/^/check-debian: unit tests /'
step "packages built"

# 2. lintian: errors fail, the rest is shown.
changes=$(ls "$tmp/build"/pgsse_*.changes)
lrc=0
lintian -I --fail-on error "$changes" >"$tmp/lintian.log" 2>&1 || lrc=$?
grep -v 'running with root privileges' "$tmp/lintian.log" | sed 's/^/lintian: /'
[ $lrc -eq 0 ] || die "lintian reports errors"
step "lintian"

# 3. The throwaway root, with the packages, Apache and PostgreSQL.
timeout $apt_max debootstrap --variant=minbase "$suite" "$root" "$mirror" \
	>"$tmp/debootstrap.log" 2>&1 || { tail -n 20 "$tmp/debootstrap.log"; die "debootstrap"; }
step "debootstrap $suite"
mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=1777,size=256m shm "$root/dev/shm"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# Debian's packages start their daemons where they can: not here.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mkdir "$root/tmp/debs"
for p in $pkgs; do
	cp "$tmp/build/${p}_"*.deb "$root/tmp/debs/"
done
# shellcheck disable=SC2086
timeout $apt_max chroot "$root" $clean_env apt-get update -q \
	>"$tmp/apt.log" 2>&1 || { tail -n 20 "$tmp/apt.log"; die "apt-get update"; }
# shellcheck disable=SC2086
timeout $apt_max chroot "$root" $clean_env sh -c 'apt-get install -y -q --no-install-recommends apache2 \
	libapache2-mod-fcgid postgresql-15 postgresql-client-15 /tmp/debs/*.deb' \
	>>"$tmp/apt.log" 2>&1 || { tail -n 30 "$tmp/apt.log"; die "apt-get install"; }
rm -rf "$root/tmp/debs"
step "installed $pkgs with apache2, libapache2-mod-fcgid, postgresql-15"

# 4. PostgreSQL and Apache on free ports; the schema; the demo.
pgport=$(free_port)
webport=$(free_port "$pgport")
pgconf=$root/etc/postgresql/15/main
sed -i "s/^port = .*/port = $pgport/" "$pgconf/postgresql.conf"
echo "listen_addresses = '127.0.0.1'" >>"$pgconf/postgresql.conf"
printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' \
	>"$pgconf/pg_hba.conf"
# shellcheck disable=SC2086
timeout $start_max chroot "$root" $clean_env pg_ctlcluster 15 main start ||
	die "PostgreSQL did not start"
pgenv="PGHOST=127.0.0.1 PGPORT=$pgport PGUSER=postgres"
# shellcheck disable=SC2086
in_root $pgenv psql -Xq -d postgres -c 'create database pgsse'
data=/usr/share/pgsse
# shellcheck disable=SC2086
in_root $pgenv PGDATABASE=pgsse pgsse-schema install >/dev/null ||
	die "pgsse-schema install"
# shellcheck disable=SC2086
in_root $pgenv psql -Xq -v ON_ERROR_STOP=1 -d pgsse \
	-f $data/demo/schema.sql >/dev/null || die "loading the demo's schema"
# shellcheck disable=SC2086
v=$(in_root $pgenv PGDATABASE=pgsse pgsse-schema version)
latest=1
for f in "$root$data"/sql/upgrade/pgsse-*-*.sql; do
	f=${f##*-}
	[ "${f%.sql}" -gt "$latest" ] && latest=${f%.sql}
done
[ "$v" = "$latest" ] || die "pgsse-schema version says '$v', not $latest"
# shellcheck disable=SC2086
in_root $pgenv PGDATABASE=pgsse pgsse-registry load $data/demo/registry.json \
	>/dev/null || die "pgsse-registry load"
step "PostgreSQL on 127.0.0.1:$pgport, schema loaded"

printf 'ServerName localhost\nListen 127.0.0.1:%s\n' "$webport" \
	>"$root/etc/apache2/ports.conf"
sed -i "s|^Define PGSSE_CONNINFO .*|Define PGSSE_CONNINFO \"host=127.0.0.1 port=$pgport dbname=pgsse\"|" \
	"$root/etc/apache2/conf-available/pgsse.conf"
in_root a2dissite -q 000-default
in_root a2enconf -q pgsse
in_root apache2ctl configtest 2>&1 | sed 's/^/apache2ctl: /'
# shellcheck disable=SC2086
timeout $start_max chroot "$root" $clean_env apache2ctl start || die "Apache did not start"
url=http://127.0.0.1:$webport
get() { curl -fsS --max-time 10 "$url$1"; }
i=0
until get / >"$tmp/index.html" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || die "Apache does not answer on $url"
	sleep 0.2
done
grep -q '<title>pgsse demo</title>' "$tmp/index.html" || die "/ is not the demo page"
get /api/sse-health | grep -q '"db":"up"' || die "/api/sse-health does not say db up"
get /demos/grid | grep -q '<article class="demo"' || die "/demos/grid has no demo card"
curl -sN --max-time 30 "$url/api/sse/status" >"$tmp/sse.txt" 2>&1 &
sse=$!
i=0
until grep -q '^event: system_status' "$tmp/sse.txt"; do
	i=$((i + 1))
	[ $i -le 40 ] || { kill "$sse"; die "no event on /api/sse/status"; }
	# shellcheck disable=SC2086
	in_root $pgenv psql -Xqd pgsse -c "select pgsse.publish('status', \
		'system_status', '{\"status\":\"ok\",\"uptime\":$i}')" >/dev/null
	sleep 0.5
done
kill "$sse" 2>/dev/null || true
wait "$sse" 2>/dev/null || true
step "Apache on $url served the demo page, /demos/grid and a stream event"

# 5. Purge: nothing of pgsse may be left.
# shellcheck disable=SC2086
timeout $start_max chroot "$root" $clean_env apache2ctl stop || die "Apache did not stop"
for p in $pkgs; do in_root dpkg -L "$p"; done | sort -u >"$tmp/files"
echo /etc/pgsse >>"$tmp/files"
# shellcheck disable=SC2086
timeout $apt_max chroot "$root" $clean_env apt-get purge -y -q $pkgs >"$tmp/purge.log" 2>&1 ||
	{ tail -n 20 "$tmp/purge.log"; die "apt-get purge"; }
# shellcheck disable=SC2016
left=$(in_root dpkg-query -W -f '${Package} ${db:Status-Abbrev}\n' |
	awk '$1 ~ /pgsse/ && $2 != "un"')
[ -z "$left" ] || die "dpkg still knows: $left"
# Every file the packages had is gone, and every folder of their own
# (a shared one such as /usr/bin stays).
while read -r f; do
	p=$root$f
	if [ -L "$p" ] || { [ -e "$p" ] && [ ! -d "$p" ]; }; then
		echo "$f"
	elif [ -d "$p" ]; then
		case $f in *pgsse*) echo "$f" ;; esac
	fi
done <"$tmp/files" >"$tmp/left"
find "$root" -xdev -name '*pgsse*' | sed "s|^$root||" >>"$tmp/left"
grep -rl pgsse "$root/etc" | sed "s|^$root||" >>"$tmp/left" || true
if [ -s "$tmp/left" ]; then
	sort -u "$tmp/left" | sed 's/^/left: /'
	die "the purge left files of pgsse"
fi
in_root apache2ctl configtest >/dev/null 2>&1 || die "Apache's configuration no longer parses"
step "purged: nothing of pgsse left"
