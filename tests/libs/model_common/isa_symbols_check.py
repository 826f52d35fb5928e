"""Checks that a plugin's portable code needs no AVX: every function of the shared library that
holds an AVX instruction (VEX/EVEX encoded, ymm/zmm or mask registers) must belong to an AVX
variant of a kernel (namespace isa_avx2 / isa_avx512, or Eigen renamed secmlops_eigen_avx2 /
secmlops_eigen_avx512; see cmake/SecmlopsIsaVariants.cmake). A function of another name with AVX
code means an inline function compiled for AVX was merged into the portable code path.

Usage: isa_symbols_check.py OBJDUMP LIBRARY...
Exit status 0 when every library passes; also fails when a library has no AVX variant at all.
"""
import re
import subprocess
import sys

VARIANT = re.compile(r"isa_avx2|isa_avx512|secmlops_eigen_avx2|secmlops_eigen_avx512")
FUNCTION = re.compile(r"^[0-9a-f]+ <(.+)>:$")
# Mnemonics of AVX and later start with "v" (vaddpd, vfmadd…, vzeroupper); of the older ones only
# verr/verw do. Registers ymm/zmm and k0-k7 exist only with AVX / AVX-512.
AVX_REGISTER = re.compile(r"%(ymm|zmm)\d+|%k[0-7]\b")


def avx_functions(objdump, library):
    out = subprocess.run([objdump, "-d", "--no-show-raw-insn", library], check=True, capture_output=True,
                         text=True).stdout
    found, current = {}, None
    for line in out.splitlines():
        m = FUNCTION.match(line)
        if m:
            current = m.group(1)
            continue
        parts = line.split("\t")
        if current is None or len(parts) < 2:
            continue
        insn = parts[1].strip()
        mnemonic = insn.split(" ", 1)[0]
        if (mnemonic.startswith("v") and mnemonic not in ("verr", "verw")) or AVX_REGISTER.search(insn):
            found.setdefault(current, insn)
    return found


def main():
    objdump, libraries = sys.argv[1], sys.argv[2:]
    failed = False
    for library in libraries:
        found = avx_functions(objdump, library)
        leaks = {f: i for f, i in found.items() if not VARIANT.search(f)}
        variants = len(found) - len(leaks)
        print(f"{library}: {variants} functions with AVX code, all in AVX variants" if not leaks
              else f"{library}: AVX code outside the AVX variants:")
        for f, insn in sorted(leaks.items()):
            print(f"  {f}: {insn}")
        if leaks or variants == 0:
            failed = True
            if variants == 0:
                print(f"{library}: no AVX variant found")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
