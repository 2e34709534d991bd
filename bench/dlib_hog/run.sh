#!/usr/bin/env bash
# Why dlib built from source detects faces 2x slower than the dlib-bin wheel (docs/benchmarks.md,
# "The dlib builds"): the same HOG detection compiled with several sets of flags.
#
#   bench/dlib_hog/run.sh [DLIB_SOURCE_DIR]    # default: downloads the dlib 20.0.1 sdist to .run/
#
# Each variant compiles dlib/all/source.cpp (~1.5 min each on one core), then all run 3 times,
# interleaved, on a 480p sample photo doubled as face_recognition does (upsample 1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work="$repo/.run/dlib-hog"
mkdir -p "$work"
src=${1:-}
if [ -z "$src" ]; then
    src="$work/dlib-20.0.1"
    if [ ! -d "$src" ]; then
        curl -sSL https://files.pythonhosted.org/packages/source/d/dlib/dlib-20.0.1.tar.gz | tar xz -C "$work"
    fi
fi
"$repo/.venv/bin/python" - "$work" <<'PY'
import sys
import face_recognition
image = face_recognition.load_image_file(sys.argv[1].rsplit("/.run", 1)[0] + "/../shared/faces/probes/obama_480p.jpg")
open(sys.argv[1] + "/img.raw", "wb").write(image.tobytes())
open(sys.argv[1] + "/img.shape", "w").write("%d %d" % image.shape[:2])
PY
variants=("avx:-O3 -mavx" "sse2:-O3" "avx2:-O3 -mavx2" "avx2-fma:-O3 -mavx2 -mfma" "avx-nosplit:-O3 -mavx -mno-avx256-split-unaligned-load -mno-avx256-split-unaligned-store")
for v in "${variants[@]}"; do
    name=${v%%:*}; flags=${v#*:}
    [ -x "$work/hog_$name" ] || g++ -std=c++14 $flags -DNDEBUG -DDLIB_NO_GUI_SUPPORT -DDLIB_DISABLE_ASSERTS \
        -I"$src" "$here/hog.cpp" "$src/dlib/all/source.cpp" -lpthread -o "$work/hog_$name" 2>/dev/null
done
cd "$work"
for round in 1 2 3; do
    for v in "${variants[@]}"; do
        name=${v%%:*}
        printf '%-12s %s\n' "$name" "$(./hog_$name | tail -n 1)"
    done
done
