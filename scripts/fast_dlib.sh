#!/usr/bin/env bash
# make fast-dlib: replace the venv's dlib-bin wheel with dlib built from source against
# OpenBLAS/LAPACK, which encodes a face about 5x faster (docs/benchmarks.md).
#
#   scripts/fast_dlib.sh PYTHON VERSION CACHE_DIR
#
# The build takes ~11 minutes on 2 cores, once: the wheel is kept in CACHE_DIR and later runs
# (a new venv, a CI machine with the cache) install it in seconds. The default install
# (`make venv`) never builds anything; `make default-dlib` goes back to dlib-bin.
set -euo pipefail

python=$1
version=$2
cache=$3

need_packages=()
dpkg -s libopenblas-dev >/dev/null 2>&1 || need_packages+=(libopenblas-dev)
dpkg -s liblapack-dev >/dev/null 2>&1 || need_packages+=(liblapack-dev)
command -v cmake >/dev/null || need_packages+=(cmake)
if [ ${#need_packages[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing ${need_packages[*]}" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_packages[@]}" >&2
    else
        echo "fast-dlib needs: ${need_packages[*]} (apt-get install ${need_packages[*]})" >&2
        exit 1
    fi
fi

# dlib's CMake switches on AVX (-mavx) when the build host has it, but not AVX2. Without AVX2,
# dlib's 8-lane integer SIMD (simd8i, used by the HOG features) is emulated with two 128-bit
# halves, and HOG detection runs 2x slower than dlib-bin (docs/benchmarks.md). With AVX2 and FMA
# on the host, build for them: such a wheel runs only on CPUs that have them (Haswell, 2013, and
# later), which is why the flavour is part of the cache folder's name.
flavour=openblas
cxxflags=${CXXFLAGS:-}
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    flavour=openblas-avx2
    cxxflags="$cxxflags -mavx2 -mfma"
fi
folder="$cache/dlib-$version-$flavour"
mkdir -p "$folder"
wheel=$(ls "$folder"/dlib-"$version"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
    echo "building dlib $version ($flavour; about 11 minutes on 2 cores, once)" >&2
    "$python" -m pip install -q --disable-pip-version-check "packaging" "wheel"
    # setup.py hands every DLIB_* environment variable to CMake; CMake starts from $CXXFLAGS.
    started=$(date +%s)
    CXXFLAGS="$cxxflags" DLIB_USE_BLAS=ON DLIB_USE_LAPACK=ON DLIB_USE_CUDA=OFF DLIB_NO_GUI_SUPPORT=ON \
        "$python" -m pip wheel --no-deps --no-build-isolation --no-binary dlib \
        -w "$folder" "dlib==$version" >&2
    echo "built in $(( $(date +%s) - started )) s" >&2
    wheel=$(ls "$folder"/dlib-"$version"-*.whl | head -n 1)
fi

"$python" -m pip uninstall -q -y dlib-bin dlib >/dev/null 2>&1 || true
"$python" -m pip install -q --disable-pip-version-check --no-deps "$wheel"
"$python" - <<'EOF'
import dlib
if not dlib.DLIB_USE_BLAS:
    raise SystemExit("the installed dlib was built without BLAS")
print(f"dlib {dlib.__version__} with BLAS={dlib.DLIB_USE_BLAS} LAPACK={dlib.DLIB_USE_LAPACK} "
      f"AVX={dlib.USE_AVX_INSTRUCTIONS}")
EOF
