#!/bin/sh
# update-client-bundle.sh vendors the official socket.io-client browser bundle.
#
# Usage: scripts/update-client-bundle.sh [VERSION]
#
# VERSION is an npm version or range of socket.io-client; it defaults to the
# newest 4.8.x release. The script fetches the package with `npm pack`, unpacks
# it into a temporary directory and copies the dist/ bundles, their source maps
# and the package's LICENSE, unmodified, into socketio/clientbundle/dist/. It
# then writes the resolved version into dist/VERSION. Running it twice with the
# same version leaves the tree unchanged.
set -eu

spec=${1:-4.8}

root=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/socketio/clientbundle/dist

files="socket.io.js
socket.io.js.map
socket.io.min.js
socket.io.min.js.map
socket.io.esm.min.js
socket.io.esm.min.js.map
socket.io.msgpack.min.js
socket.io.msgpack.min.js.map"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# npm pack resolves the version or range against the registry, checks the
# tarball's integrity and prints the tarball's file name as its last line.
tarball=$(cd "$tmp" && npm pack --silent "socket.io-client@$spec" | tail -n 1)
case $tarball in
socket.io-client-*.tgz) ;;
*)
	echo "update-client-bundle: unexpected npm pack output: $tarball" >&2
	exit 1
	;;
esac
version=${tarball#socket.io-client-}
version=${version%.tgz}

tar -xzf "$tmp/$tarball" -C "$tmp"
pkg=$tmp/package

for f in $files; do
	if [ ! -f "$pkg/dist/$f" ]; then
		echo "update-client-bundle: $f missing from socket.io-client@$version" >&2
		exit 1
	fi
done
if [ ! -f "$pkg/LICENSE" ]; then
	echo "update-client-bundle: LICENSE missing from socket.io-client@$version" >&2
	exit 1
fi
if ! head -n 5 "$pkg/dist/socket.io.js" | grep -q "Socket.IO v$version\$"; then
	echo "update-client-bundle: socket.io.js banner does not name v$version" >&2
	exit 1
fi

mkdir -p "$dest"
for f in $files LICENSE; do
	src=$pkg/dist/$f
	[ "$f" = LICENSE ] && src=$pkg/LICENSE
	# Copy through a temporary name so that an interrupted run never leaves a
	# truncated file behind.
	cp "$src" "$dest/.$f.tmp"
	chmod 0644 "$dest/.$f.tmp"
	mv -f "$dest/.$f.tmp" "$dest/$f"
done
printf '%s\n' "$version" >"$dest/VERSION.tmp"
mv -f "$dest/VERSION.tmp" "$dest/VERSION"

echo "socket.io-client $version vendored into ${dest#"$root"/}"
