"""A real program we did not write: the standard library's pure-Python JSON codec.

Encodes a big nested document with ``json.JSONEncoder.iterencode`` (without the one-shot
flag the encoder runs its pure-Python generator path, ``json.encoder._make_iterencode``,
the code PyPy and CPython without ``_json`` use) and decodes it again with the
pure-Python scanner (``json.scanner.py_make_scanner`` with ``json.decoder.py_scanstring``).
Generators, closures, recursion, regex matches and string builtins: realistic library code.
"""
import json
import json.decoder
import json.scanner
import random

ORDER = 40
NAME = "stdlib json"


def make_document(n_records, seed=7):
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
             "caf\u00e9", "na\u00efve", "quote\"d", "tab\there", "line\nbreak"]
    records = []
    for i in range(n_records):
        records.append({
            "id": i,
            "name": " ".join(rng.choice(words) for _ in range(3)),
            "score": rng.random() * 100,
            "active": rng.random() < 0.5,
            "parent": None if i % 5 == 0 else i // 2,
            "tags": [rng.choice(words) for _ in range(rng.randrange(1, 5))],
            "position": {"x": rng.uniform(-1, 1), "y": rng.uniform(-1, 1),
                         "history": [rng.randrange(1000) for _ in range(4)]},
        })
    return {"version": 3, "generator": "hotpath benchmark", "records": records}


def prepare(quick: bool):
    n = 200 if quick else 2_000
    doc = make_document(n)
    encoder = json.JSONEncoder(sort_keys=False)
    decoder = json.JSONDecoder()
    decoder.parse_string = json.decoder.py_scanstring
    decoder.scan_once = json.scanner.py_make_scanner(decoder)

    def run():
        text = "".join(encoder.iterencode(doc))
        back = decoder.decode(text)
        assert len(back["records"]) == n
        return len(text)

    run.description = f"pure-Python json encode+decode, {n:,} records"
    return run
