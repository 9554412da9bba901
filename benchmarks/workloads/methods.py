"""Many small method calls mixed with builtins: the texture of everyday Python code.

A tiny inventory with short methods that call len, isinstance, dict.get, list.append,
min, max, abs and sum, driven by a loop. About half the calls are to C functions, so the
builtin events (c_call/c_return, or CALL/C_RETURN under sys.monitoring) matter as much as
the Python ones.
"""
ORDER = 20
NAME = "methods+builtins"


class Item:
    __slots__ = ("name", "qty", "price")

    def __init__(self, name, qty, price):
        self.name = name
        self.qty = qty
        self.price = price

    def value(self):
        return self.qty * self.price

    def is_low(self, threshold):
        return self.qty < threshold


class Inventory:
    def __init__(self):
        self.items = {}
        self.log = []
        self.counts = {}

    def add(self, name, qty, price):
        item = self.items.get(name)
        if item is None:
            item = self.items[name] = Item(name, 0, price)
        if isinstance(qty, int):
            item.qty += qty
        self.count(name)
        self.log.append(name)
        return item

    def count(self, name):
        self.counts[name] = self.counts.get(name, 0) + 1

    def take(self, name, qty):
        item = self.items.get(name)
        if item is None:
            return 0
        taken = min(qty, item.qty)
        item.qty = max(0, item.qty - taken)
        return taken

    def size(self):
        return len(self.items)

    def total(self):
        return sum(item.value() for item in self.items.values())

    def spread(self, a, b):
        return abs(a - b)


def work(n_ops):
    inv = Inventory()
    names = [f"sku{i}" for i in range(97)]
    low = 0
    for i in range(n_ops):
        name = names[i % 97]
        item = inv.add(name, i % 7 + 1, 1.5)
        inv.take(name, i % 5)
        if item.is_low(3):
            low += 1
        low += inv.spread(inv.size(), len(inv.log) % 50)
        if i % 1000 == 0:
            inv.total()
    return low


def prepare(quick: bool):
    n = 15_000 if quick else 150_000

    def run():
        return work(n)

    run.description = f"inventory, {n:,} ops (small methods + len/isinstance/dict.get/...)"
    return run
