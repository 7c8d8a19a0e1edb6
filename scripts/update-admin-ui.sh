#!/bin/sh
# update-admin-ui.sh vendors the built files of the official Socket.IO Admin UI.
#
# Usage: scripts/update-admin-ui.sh [VERSION]
#
# VERSION is an npm version or range of @socket.io/admin-ui; it defaults to the
# newest 0.5.x release. The script fetches the package with `npm pack`, unpacks
# it into a temporary directory and copies ui/dist/ (the built web app) and the
# package's LICENSE, unmodified, into admin/ui/dist/. It then writes the
# resolved version into admin/ui/VERSION. Running it twice with the same
# version leaves the tree unchanged.
set -eu

spec=${1:-0.5}

root=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/admin/ui

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# npm pack resolves the version or range against the registry, checks the
# tarball's integrity and prints the tarball's file name as its last line.
tarball=$(cd "$tmp" && npm pack --silent "@socket.io/admin-ui@$spec" | tail -n 1)
case $tarball in
socket.io-admin-ui-*.tgz) ;;
*)
	echo "update-admin-ui: unexpected npm pack output: $tarball" >&2
	exit 1
	;;
esac
version=${tarball#socket.io-admin-ui-}
version=${version%.tgz}

tar -xzf "$tmp/$tarball" -C "$tmp"
pkg=$tmp/package

for f in ui/dist/index.html LICENSE; do
	if [ ! -f "$pkg/$f" ]; then
		echo "update-admin-ui: $f missing from @socket.io/admin-ui@$version" >&2
		exit 1
	fi
done

# Replace the whole directory at once, so that the hashed file names of an
# older build do not linger.
mkdir -p "$dest"
rm -rf "$dest/.dist.tmp"
cp -R "$pkg/ui/dist" "$dest/.dist.tmp"
cp "$pkg/LICENSE" "$dest/.dist.tmp/LICENSE"
find "$dest/.dist.tmp" -type f -exec chmod 0644 {} +
rm -rf "$dest/dist"
mv "$dest/.dist.tmp" "$dest/dist"
printf '%s\n' "$version" >"$dest/VERSION.tmp"
mv -f "$dest/VERSION.tmp" "$dest/VERSION"

echo "@socket.io/admin-ui $version vendored into ${dest#"$root"/}"
