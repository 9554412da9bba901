"""The C core reads CPython's internal frame layout (frames.h) for the memory tracker's
stacks. These check those reads against the public frame API on the running interpreter,
in every kind of frame, so a layout change in a new Python fails here, loudly, instead of
giving garbage stacks."""
from __future__ import annotations

import asyncio
import threading

import hotpath._core as core


def check() -> None:
    core._frames_selfcheck()


def test_plain_and_nested_frames() -> None:
    def inner(n: int) -> None:
        if n:
            inner(n - 1)
        else:
            check()

    inner(20)


def test_generator_and_comprehension_frames() -> None:
    def gen():
        yield check()

    list(gen())
    [check() for _ in range(2)]


def test_coroutine_frames() -> None:
    async def leaf() -> None:
        check()

    async def main() -> None:
        await leaf()
        await asyncio.gather(leaf(), leaf())

    asyncio.run(main())


def test_other_thread() -> None:
    errors: list[BaseException] = []

    def target() -> None:
        try:
            check()
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    assert not errors, errors


def test_class_body_and_callbacks() -> None:
    class Body:
        check()

    sorted([3, 1, 2], key=lambda x: (check(), x)[1])
    assert Body
