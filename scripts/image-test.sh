#!/usr/bin/env bash
# Builds vidgate's container image from the Dockerfile and checks it, with
# no registry and no container runtime: the debian:12 base is made by
# debootstrap from the machine's Debian mirror and imported into podman; the
# image is built with `podman build --isolation chroot`; its root file system
# (podman image mount) is then entered with chroot as the image's own user,
# where vidgate goes through the seed's scenarios on a folder store.
# Usage: image-test.sh   (root; `make image-test` installs podman and debootstrap)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${VIDGATE_IMAGE_WORK:-$root/build-image}"
base=localhost/debian:12
image=localhost/vidgate:test
mkdir -p "$work"
say() { echo "image-test: $*"; }

# ---- The base: debian:12 as Docker Hub has it, made here ------------------
if ! podman image exists "$base"; then
  say "making $base with debootstrap"
  rm -rf "$work/rootfs"
  debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log"
  # Sources with updates and security, as the official image has: the
  # machine's own when it has them in that form, else Debian's.
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    cp /etc/apt/sources.list.d/debian.sources "$work/rootfs/etc/apt/sources.list.d/"
  else
    cat >"$work/rootfs/etc/apt/sources.list.d/debian.sources" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  fi
  rm -f "$work/rootfs/etc/apt/sources.list"
  rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/archives/"*.deb
  tar -C "$work/rootfs" -c . | podman import --quiet - "$base" >/dev/null
  rm -rf "$work/rootfs"
fi

# ---- The image ----------------------------------------------------------------
say "building $image"
start=$(date +%s)
# Docker's format, which keeps HEALTHCHECK (OCI's has no place for it).
podman build --quiet --format docker --isolation chroot --build-arg BASE="$base" -t "$image" \
  "$root" >"$work/build.log"
say "built in $(( $(date +%s) - start )) s"
size=$(podman image inspect --format '{{.Size}}' "$image")
say "image size: $(( size / 1024 / 1024 )) MiB ($size bytes)"

inspect() { podman image inspect --format "$1" "$image"; }
fail() { echo "image-test: FAILED: $*" >&2; exit 1; }
[[ "$(inspect '{{json .Config.Entrypoint}}')" == '["/usr/local/bin/vidgate"]' ]] || fail "entrypoint is $(inspect '{{json .Config.Entrypoint}}')"
[[ "$(inspect '{{json .Config.Cmd}}')" == '["run"]' ]] || fail "command is $(inspect '{{json .Config.Cmd}}')"
[[ "$(inspect '{{.Config.User}}')" == "vidgate" ]] || fail "user is '$(inspect '{{.Config.User}}')'"
health=$(inspect '{{json .Config.Healthcheck.Test}}')
[[ "$health" == '["CMD","curl","-fsS","-o","/dev/null","http://127.0.0.1:8080/healthz"]' ]] ||
  fail "health check is $health"

# ---- Inside it ------------------------------------------------------------------
# A writable copy of the image's files (the mount is read-only), with /proc
# and /dev as a container has them.
tree="$work/tree"
served=""
# Unmounts what this script mounted in the copy and removes the copy, but
# only once nothing is mounted there (never the machine's /dev or /proc).
release_tree() {
  [[ -e "$tree" ]] || return 0
  local m
  for m in proc dev; do
    if mountpoint -q "$tree/$m"; then umount "$tree/$m" 2>/dev/null || umount -l "$tree/$m"; fi
  done
  if findmnt -rn -o TARGET | grep -qF "$tree/"; then
    echo "image-test: $tree still has something mounted; it is left in place" >&2
    return 1
  fi
  rm -rf --one-file-system "$tree"
}
cleanup() {
  if [[ -n "$served" ]]; then kill -KILL "$served" 2>/dev/null || true; fi
  release_tree || true
  podman image unmount "$image" >/dev/null 2>&1 || true
}
trap cleanup EXIT
release_tree  # a copy an interrupted run left
mounted=$(podman image mount "$image")
cp -a "$mounted" "$tree"
mount -t proc proc "$tree/proc"
mount --bind /dev "$tree/dev"

# Nothing the image needs is missing, and no compiler came along.
if chroot "$tree" ldd /usr/local/bin/vidgate | grep -q "not found"; then
  chroot "$tree" ldd /usr/local/bin/vidgate | grep "not found" >&2
  fail "the image lacks libraries vidgate links"
fi
for tool in g++ cc cmake; do
  if chroot "$tree" sh -c "command -v $tool" >/dev/null; then fail "the image carries $tool"; fi
done

uid=$(chroot "$tree" id -u vidgate)
gid=$(chroot "$tree" id -g vidgate)
[[ "$uid" != 0 ]] || fail "the image's user is root"
as_user() {
  chroot --userspec="$uid:$gid" "$tree" env HOME=/var/lib/vidgate TMPDIR=/tmp \
    sh -c "cd /var/lib/vidgate && $*"
}
# The image's user owns its home (the store goes there) and nothing else of note.
as_user "touch probe && rm probe" || fail "the image's user cannot write its home"
if as_user "touch /usr/local/bin/x" 2>/dev/null; then fail "the image's user can write /usr/local/bin"; fi

cat >"$tree/var/lib/vidgate/vidgate.toml" <<'TOML'
[storage]
settle_seconds = 0.2
[metadata]
wait_seconds = 1
[workers]
count = 2
[retry]
base_delay_seconds = 0.05
max_delay_seconds = 0.2
TOML
chroot "$tree" chown "$uid:$gid" /var/lib/vidgate/vidgate.toml

as_user "vidgate --version" >/dev/null || fail "vidgate --version"
as_user "vidgate demo" >"$work/demo.log" 2>&1 || fail "vidgate demo: $(tail -3 "$work/demo.log")"
# The seed's retry scenario: a video whose filing keeps failing (its folder
# is a link, which the store refuses) is tried 5 times, then set aside.
as_user 'mkdir -p vidgate-data/failed vidgate-data/processed &&
  cp vidgate-data/uploads/demo-*/welcome.mp4 vidgate-data/failed/doomed.mp4 &&
  printf "{\"title\":\"Doomed\"}" >vidgate-data/failed/doomed.json &&
  ln -s /nowhere vidgate-data/processed/doomed' || fail "setting up the retry scenario"
sleep 1.5  # past settle_seconds and metadata.wait_seconds
as_user "vidgate run --until-idle --no-server" >"$work/run.log" 2>&1 || fail "vidgate run: $(tail -5 "$work/run.log")"
as_user "vidgate list --json" >"$work/list.json" || fail "vidgate list"

python3 - "$work/list.json" "$tree/var/lib/vidgate/vidgate-data" <<'PY'
import json, os, sys
videos = {v["name"].rsplit("/", 1)[-1]: v["state"] for v in json.load(open(sys.argv[1]))["videos"]}
want = {"welcome": "processed", "black-intro": "processed", "no-metadata": "awaiting_metadata",
        "bad-sidecar": "awaiting_metadata", "broken": "unable_to_process",
        "doomed": "unable_to_process"}
if videos != want:
    sys.exit(f"image-test: FAILED: states {videos}, expected {want}")
data = sys.argv[2]
renditions = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(data, "processed")) for f in fs
              if f.endswith(".mp4") and "renditions" in d]
if len(renditions) != 2 or any(os.path.getsize(r) == 0 for r in renditions):
    sys.exit(f"image-test: FAILED: renditions {renditions}")
print("image-test: the seed's scenarios in the image: " +
      ", ".join(f"{k} {v}" for k, v in sorted(videos.items())))
PY
grep -q "vidgate.metadata.missing" "$work/run.log" || fail "no metadata.missing notice in the log"
as_user "vidgate show doomed --json" >"$work/doomed.json" || fail "vidgate show doomed"
python3 - "$work/doomed.json" <<'PY'
import json, sys
attempts = [a["outcome"] for a in json.load(open(sys.argv[1]))["attempts"]]
if attempts != ["failed"] * 5:
    sys.exit(f"image-test: FAILED: doomed's attempts {attempts}, expected 5 failed")
PY

# The health check, as the image declares it, against `vidgate run` serving
# in the image (this chroot shares the machine's loopback): it passes while
# vidgate runs, and fails once it is gone.
health_check() { chroot --userspec="$uid:$gid" "$tree" curl -fsS -o /dev/null http://127.0.0.1:8080/healthz; }
if health_check 2>/dev/null; then fail "something already answers on 127.0.0.1:8080 here"; fi
chroot --userspec="$uid:$gid" "$tree" env HOME=/var/lib/vidgate TMPDIR=/tmp \
  sh -c 'cd /var/lib/vidgate && exec vidgate run' >"$work/serve.log" 2>&1 &
served=$!
for _ in $(seq 100); do
  health_check 2>/dev/null && break
  sleep 0.1
done
health_check || fail "the health check fails against a running vidgate: $(tail -3 "$work/serve.log")"
kill -TERM "$served"
wait "$served" || fail "vidgate run did not stop cleanly on SIGTERM: $(tail -3 "$work/serve.log")"
served=""
if health_check 2>/dev/null; then fail "the health check passes with vidgate stopped"; fi

# The Lambda entry point is there and says what it needs.
set +e
as_user "vidgate lambda" >"$work/lambda.log" 2>&1
code=$?
set -e
[[ $code == 2 ]] && grep -q "AWS_LAMBDA_RUNTIME_API" "$work/lambda.log" || fail "vidgate lambda outside Lambda: exit $code: $(cat "$work/lambda.log")"
say "ok"
