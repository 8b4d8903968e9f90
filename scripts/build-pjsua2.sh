#!/usr/bin/env bash
# Build PJSIP's pjsua2 Python binding from source (with our config_site.h),
# cache the wheel in ~/.cache/callcenter/wheels/ and install it into PYTHON.
#
# Usage: scripts/build-pjsua2.sh PYTHON      (e.g. .venv/bin/python)
#
# Only the first run on a machine builds (3-7 min on 2 cores); later runs
# reinstall the cached wheel, or do nothing if PYTHON already has it.
# Why and how: docs/pjsua2-build.md. Force a rebuild:
#   rm -rf ~/.cache/callcenter/wheels
set -euo pipefail

# Bump when the build recipe (patches, make targets) changes: it is part of
# the cache key, like config_site.h, the configure flags and the Python ABI.
RECIPE_REV=1
MIN_PJ_VERSION=2.14

CONFIGURE_FLAGS=(
  --enable-epoll
  --disable-sound --disable-video
  --with-external-gsm --with-external-speex --with-external-srtp
  --enable-libsamplerate
  --disable-ilbc-codec --disable-g7221-codec
  --disable-libwebrtc --disable-libyuv
  --disable-opencore-amr --disable-silk --disable-bcg729 --disable-opus --disable-lyra
  --disable-sdl --disable-ffmpeg --disable-v4l2 --disable-openh264 --disable-vpx
  --disable-ipp --disable-darwin-ssl --disable-upnp
)
BUILD_CFLAGS='-O2 -fPIC'

say() { echo "build-pjsua2: $*"; }
die() { echo "build-pjsua2: ERROR: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 PYTHON   (path of the interpreter to install pjsua2 into)"

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONFIG_SITE="$SCRIPT_DIR/pjsua2/config_site.h"
[ -f "$CONFIG_SITE" ] || die "missing $CONFIG_SITE"

# Absolute path of PYTHON without resolving symlinks (a venv's bin/python is
# a symlink to the base interpreter; resolving it would escape the venv).
PY=$1
case "$PY" in
  */*) PY="$(cd "$(dirname "$PY")" 2>/dev/null && pwd)/$(basename "$PY")" ;;
  *)   PY=$(command -v "$PY" || true) ;;
esac
if [ -z "$PY" ] || [ ! -x "$PY" ]; then die "PYTHON '$1' is not an executable"; fi
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 8))' 2>/dev/null \
  || die "$1 is not a Python >= 3.8 interpreter"
"$PY" -m pip --version >/dev/null 2>&1 \
  || die "$1 has no pip (for a venv: python3 -m venv --upgrade-deps; Debian package: python3-pip)"

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/callcenter"
WHEEL_ROOT="$CACHE_ROOT/wheels"
APT_DIR="$CACHE_ROOT/apt"
BUILD_DIR="$CACHE_ROOT/build"
mkdir -p "$WHEEL_ROOT" "$APT_DIR"

# ---------------------------------------------------------------- cache key
PY_TAG=$("$PY" -c 'import sys, sysconfig
print(sys.implementation.name, sysconfig.get_config_var("SOABI") or "", sysconfig.get_platform())')
CONFIG_HASH=$(
  {
    echo "recipe=$RECIPE_REV"
    echo "cflags=$BUILD_CFLAGS"
    echo "configure=${CONFIGURE_FLAGS[*]}"
    echo "python=$PY_TAG"
    echo "config_site.h:"
    cat "$CONFIG_SITE"
  } | sha256sum | cut -c1-16
)
EXPECTED_MAX_CALLS=$(sed -n 's/^#define[[:space:]]\+PJSUA_MAX_CALLS[[:space:]]\+\([0-9]\+\).*/\1/p' "$CONFIG_SITE")
[ -n "$EXPECTED_MAX_CALLS" ] || die "PJSUA_MAX_CALLS not found in $CONFIG_SITE"

# The installed pjsua2 is ours if its dist version carries our key and the
# compiled-in call cap is the one from config_site.h.
installed_version() {
  # From /, not the build tree: its pjsua2.py and egg-info would pass for the installed
  # module (seen when rebuilding over an older install: the new wheel was never installed).
  (cd / && "$PY" - "$EXPECTED_MAX_CALLS" 2>/dev/null) <<'PYEOF' || true
import sys, importlib.metadata as md
import pjsua2
if pjsua2.UaConfig().maxCalls == int(sys.argv[1]):
    print(md.version("pjsua2"))
PYEOF
}

# wheels/pjproject-<version>-<hash>/pjsua2-<version>+callcenter.<hash>-<tags>.whl
find_cached_wheel() {
  local d best=""
  for d in "$WHEEL_ROOT"/pjproject-*-"$CONFIG_HASH"; do
    [ -d "$d" ] || continue
    compgen -G "$d/pjsua2-*.whl" >/dev/null || continue
    best=$(printf '%s\n%s\n' "$best" "$d" | sed '/^$/d' | sort -V | tail -n1)
  done
  [ -n "$best" ] && ls "$best"/pjsua2-*.whl | head -n1
  return 0
}

install_wheel() {
  local whl=$1 ver want
  ver=$(basename "$whl" | cut -d- -f2)
  want=$(installed_version)
  if [ "$want" = "$ver" ]; then
    say "pjsua2 $ver already installed in $PY, nothing to do"
    return 0
  fi
  say "installing $(basename "$whl") into $PY"
  "$PY" -m pip install --quiet --force-reinstall --no-deps "$whl" \
    || die "pip install of $whl failed"
  [ "$(installed_version)" = "$ver" ] \
    || die "installed pjsua2 does not import, or has not PJSUA_MAX_CALLS=$EXPECTED_MAX_CALLS"
  say "pjsua2 $ver installed (PJSUA_MAX_CALLS=$EXPECTED_MAX_CALLS)"
  # PyPI's pjsua2-python ships the same module files; uninstalling it later
  # would delete ours.
  if "$PY" -c 'import importlib.metadata as m; m.distribution("pjsua2-python")' 2>/dev/null; then
    say "WARNING: pjsua2-python (PyPI, PJSUA_MAX_CALLS=4) is also installed in $PY;" \
        "run '$PY -m pip uninstall -y pjsua2-python' and then this script again"
  fi
}

# One build at a time per machine (CI and a developer may run this together).
exec 9>"$CACHE_ROOT/.build-pjsua2.lock"
command -v flock >/dev/null && flock 9

WHEEL=$(find_cached_wheel)
if [ -n "$WHEEL" ]; then
  say "cache hit: $WHEEL"
  install_wheel "$WHEEL"
  exit 0
fi
say "no cached wheel for key $CONFIG_HASH; building pjsua2 from source"

# ---------------------------------------------------------------- tools
need() {  # need COMMAND DEBIAN_PACKAGE
  command -v "$1" >/dev/null || die "'$1' not found: install the Debian package '$2' (apt-get install $2)"
}
need apt-get apt
need tar tar
need xz xz-utils
need make make
need gcc build-essential
need g++ build-essential
need swig swig
need pkg-config pkg-config
for pc in "speex:libspeex-dev" "speexdsp:libspeexdsp-dev" "libsrtp2:libsrtp2-dev" \
          "samplerate:libsamplerate0-dev" "openssl:libssl-dev" "uuid:uuid-dev"; do
  pkg-config --exists "${pc%%:*}" \
    || die "pkg-config cannot find ${pc%%:*}: install the Debian package '${pc#*:}'"
done
[ -f /usr/include/gsm.h ] || [ -f /usr/include/gsm/gsm.h ] \
  || die "gsm.h not found: install the Debian package 'libgsm1-dev'"
"$PY" -c 'import os, sysconfig, sys
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || die "Python.h for $1 not found: install python3-dev (or python$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-dev)"

# ---------------------------------------------------------------- source
# pjproject reaches us only as the orig-Xpjproject component of Debian's
# asterisk source package. Fetch it with a private apt configuration; the
# machine's /etc/apt is not modified. Signatures are checked as usual.
debian_mirror() {
  local m=""
  if [ -n "${PJSUA2_DEBIAN_MIRROR:-}" ]; then echo "$PJSUA2_DEBIAN_MIRROR"; return; fi
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
          /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' \
          /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

apt_private() {
  local opts=(
    -o "Dir::Etc::SourceList=$APT_DIR/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::Etc::Preferences=/dev/null"
    -o "Dir::Etc::PreferencesParts=/dev/null"
    -o "Dir::State::Lists=$APT_DIR/lists"
    -o "Dir::Cache=$APT_DIR/cache"
    -o "APT::Get::List-Cleanup=0"
  )
  # As root apt drops to user _apt, which cannot write under /root/.cache.
  [ "$(id -u)" -eq 0 ] && opts+=(-o "APT::Sandbox::User=root")
  apt-get -q "${opts[@]}" "$@"
}

SRC_DIR="$APT_DIR/src"
find_tarball() {
  compgen -G "$SRC_DIR/asterisk_*.orig-Xpjproject.tar.*" >/dev/null || return 0
  ls "$SRC_DIR"/asterisk_*.orig-Xpjproject.tar.* | sort -V | tail -n1
}

mkdir -p "$SRC_DIR" "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
TARBALL=$(find_tarball)
if [ -z "$TARBALL" ]; then
  MIRROR=$(debian_mirror)
  KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
  if [ -f "$KEYRING" ]; then
    echo "deb-src [signed-by=$KEYRING] $MIRROR sid main" > "$APT_DIR/sources.list"
  else
    echo "deb-src $MIRROR sid main" > "$APT_DIR/sources.list"
  fi
  say "fetching Debian sid source package 'asterisk' from $MIRROR (private apt config in $APT_DIR)"
  apt_private --error-on=any update > "$APT_DIR/apt.log" 2>&1 \
    || { tail -n 20 "$APT_DIR/apt.log" >&2; die "could not fetch the pjproject source: apt-get update of $MIRROR sid (deb-src) failed, see $APT_DIR/apt.log"; }
  (cd "$SRC_DIR" && apt_private source --download-only asterisk) >> "$APT_DIR/apt.log" 2>&1 \
    || { tail -n 20 "$APT_DIR/apt.log" >&2; die "could not fetch the pjproject source (apt-get source asterisk from sid), see $APT_DIR/apt.log"; }
  TARBALL=$(find_tarball)
  [ -n "$TARBALL" ] || die "asterisk source from sid has no orig-Xpjproject tarball (files: $(ls "$SRC_DIR" | tr '\n' ' '))"
  # Keep only pjproject (and the .dsc that lists its checksum).
  find "$SRC_DIR" -maxdepth 1 -type f -name 'asterisk_*' ! -name '*.orig-Xpjproject.tar.*' ! -name '*.dsc' -delete
else
  say "using downloaded source $TARBALL"
fi

# ---------------------------------------------------------------- build
mkdir -p "$BUILD_DIR"
LOG="$BUILD_DIR/build.log"
PJ="$BUILD_DIR/pjproject"
rm -rf "$PJ"
mkdir -p "$PJ"
: > "$LOG"
START=$(date +%s)

step() {  # step DESCRIPTION COMMAND...   (output goes to the log)
  local what=$1; shift
  say "[$(( $(date +%s) - START ))s] $what"
  echo "===== $what: $*" >> "$LOG"
  if ! "$@" >> "$LOG" 2>&1; then
    echo "----- last 40 lines of $LOG -----" >&2
    tail -n 40 "$LOG" >&2
    die "$what failed (full log: $LOG)"
  fi
}

step "extracting $(basename "$TARBALL")" tar -xf "$TARBALL" -C "$PJ" --strip-components=1
[ -f "$PJ/version.mak" ] || die "no version.mak in $TARBALL: not a pjproject source tree"
mak_var() { sed -n "s/^export $1[[:space:]]*:=[[:space:]]*\([^[:space:]]*\).*/\1/p" "$PJ/version.mak"; }
PJ_MAJOR=$(mak_var PJ_VERSION_MAJOR); PJ_MINOR=$(mak_var PJ_VERSION_MINOR)
PJ_REV=$(mak_var PJ_VERSION_REV); PJ_SUFFIX=$(mak_var PJ_VERSION_SUFFIX)
[[ "$PJ_MAJOR" =~ ^[0-9]+$ && "$PJ_MINOR" =~ ^[0-9]+$ ]] \
  || die "cannot read the pjproject version from $PJ/version.mak (major='$PJ_MAJOR' minor='$PJ_MINOR')"
PJ_VERSION="$PJ_MAJOR.$PJ_MINOR${PJ_REV:+.$PJ_REV}$PJ_SUFFIX"
if [ "$(printf '%s\n%s\n' "$MIN_PJ_VERSION" "$PJ_MAJOR.$PJ_MINOR${PJ_REV:+.$PJ_REV}" | sort -V | head -n1)" != "$MIN_PJ_VERSION" ]; then
  die "pjproject $PJ_VERSION found in $(basename "$TARBALL"), need >= $MIN_PJ_VERSION"
fi
say "building pjproject $PJ_VERSION (from $(basename "$TARBALL"))"

KEY="pjproject-$PJ_VERSION-$CONFIG_HASH"
LOCAL_VERSION="callcenter.$CONFIG_HASH"

cp "$CONFIG_SITE" "$PJ/pjlib/include/pj/config_site.h"

# Debian's copy drops the bundled BDIMAD sound device source; the Makefile
# still lists it.
sed -i 's/[[:space:]]bdimad_dev\.o//' "$PJ/pjmedia/build/Makefile"

cd "$PJ"
step "configure" env CFLAGS="$BUILD_CFLAGS" CXXFLAGS="$BUILD_CFLAGS" ./configure "${CONFIGURE_FLAGS[@]}"
grep -q 'define PJ_IOQUEUE_IMP PJ_IOQUEUE_IMP_EPOLL' "$PJ/pjlib/include/pj/compat/os_auto.h" \
  || die "configure did not select the epoll ioqueue (see $LOG)"
step "make dep" make dep
step "make lib (-j$(nproc))" make -j"$(nproc)" lib

# SWIG binding: generate pjsua2_wrap.cpp with the Makefile's swig flags, then
# build the wheel with PYTHON (the Makefile itself would use `python3`).
SWIG_PY="$PJ/pjsip-apps/src/swig/python"
step "swig (pjsua2_wrap.cpp)" make -C "$SWIG_PY" pjsua2_wrap.cpp
# Local version label so the wheel (and `pip show pjsua2`) names our build.
sed -i "s/^\([[:space:]]*version=\)pj_version,/\1pj_version + \"+$LOCAL_VERSION\",/" "$SWIG_PY/setup.py"
grep -q "+$LOCAL_VERSION" "$SWIG_PY/setup.py" || die "could not patch the version in $SWIG_PY/setup.py"
if ! "$PY" -c 'import setuptools, wheel' 2>/dev/null; then
  step "pip install setuptools wheel into $PY" "$PY" -m pip install setuptools wheel
fi
WHEEL_TMP="$BUILD_DIR/wheel"
rm -rf "$WHEEL_TMP"
cd "$SWIG_PY"
step "build wheel (compiles pjsua2_wrap.cpp, several minutes)" \
  "$PY" -m pip wheel --no-deps --no-build-isolation --use-pep517 -w "$WHEEL_TMP" .
BUILT=$(ls "$WHEEL_TMP"/pjsua2-*.whl 2>/dev/null | head -n1)
[ -n "$BUILT" ] || die "no wheel produced in $WHEEL_TMP (see $LOG)"

OUT="$WHEEL_ROOT/$KEY"
rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp"
cp "$BUILT" "$OUT.tmp/"
cp "$CONFIG_SITE" "$OUT.tmp/config_site.h"
{
  echo "pjproject_version=$PJ_VERSION"
  echo "source=$(basename "$TARBALL")"
  echo "config_hash=$CONFIG_HASH"
  echo "recipe=$RECIPE_REV"
  echo "python=$PY_TAG"
  echo "cflags=$BUILD_CFLAGS"
  echo "configure=${CONFIGURE_FLAGS[*]}"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "build_seconds=$(( $(date +%s) - START ))"
} > "$OUT.tmp/BUILDINFO"
gzip -c "$LOG" > "$OUT.tmp/build.log.gz"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
say "built $(basename "$BUILT") in $(( $(date +%s) - START ))s, cached in $OUT"

install_wheel "$OUT/$(basename "$BUILT")"

# The build tree is not needed any more; the source tarball stays in $SRC_DIR.
cd "$CACHE_ROOT"
rm -rf "$BUILD_DIR"
