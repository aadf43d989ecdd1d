#!/usr/bin/env python3
"""The classic exercise pcopy grew out of, as a baseline for pcopy-bench: two multiprocessing
processes copy the lower and the upper half of SOURCE into DEST with os.pread/os.pwrite and 1 MiB
buffers. Kept deliberately plain: it is the yardstick, not a competitor to tune.

Usage: classic_two_process.py SOURCE DEST
"""
import multiprocessing
import os
import sys

BUFFER = 1 << 20


def copy_half(src, dst, start, end):
    fin = os.open(src, os.O_RDONLY)
    fout = os.open(dst, os.O_WRONLY)
    try:
        offset = start
        while offset < end:
            data = os.pread(fin, min(BUFFER, end - offset), offset)
            if not data:
                raise OSError(f"{src}: unexpected end of file at offset {offset}")
            view = memoryview(data)
            while view:
                written = os.pwrite(fout, view, offset)
                view = view[written:]
                offset += written
    finally:
        os.close(fin)
        os.close(fout)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]
    size = os.stat(src).st_size
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, size)
    os.close(fd)
    half = size // 2
    workers = [multiprocessing.Process(target=copy_half, args=(src, dst, 0, half)),
               multiprocessing.Process(target=copy_half, args=(src, dst, half, size))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return 0 if all(w.exitcode == 0 for w in workers) else 1


if __name__ == "__main__":
    sys.exit(main())
