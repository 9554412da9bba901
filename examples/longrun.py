"""A long-running program for `hotpath attach` (and its tests): two threads doing
well-separated amounts of work until killed, printing a heartbeat."""
import sys
import threading
import time


def heavy(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def light(n):
    return heavy(n // 4)


def worker():
    while True:
        light(20000)
        time.sleep(0.001)


def main():
    threading.Thread(target=worker, daemon=True).start()
    print("ready", flush=True)
    end = time.monotonic() + float(sys.argv[1]) if len(sys.argv) > 1 else None
    while end is None or time.monotonic() < end:
        heavy(50000)
    print("done", flush=True)


if __name__ == "__main__":
    main()
