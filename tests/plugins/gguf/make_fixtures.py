#!/usr/bin/python3
"""Writes GGUF fixtures (benign files and one file per anomaly) into argv[1] with struct only.
File names say which rule each one must trigger. The chat-template payloads are text: nothing
renders them."""
import os
import struct
import sys

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)

U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8

BENIGN_TEMPLATE = ("{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}"
                   "</s>\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}")
SSTI_TEMPLATE = ("{{ ''.__class__.__mro__[1].__subclasses__() }}"
                 "{% for m in messages %}{{ m['content'] }}{% endfor %}")
CODE_TEMPLATE = "{# import helper from os. #}{% for m in messages %}{{ m['content'] }}{% endfor %}"


class Writer:
    def __init__(self, version=3):
        self.version = version
        self.kv = []
        self.tensors = []

    def s(self, text):
        b = text.encode() if isinstance(text, str) else text
        return struct.pack("<Q" if self.version >= 2 else "<I", len(b)) + b

    def n(self, value):
        return struct.pack("<Q" if self.version >= 2 else "<I", value)

    def value(self, vtype, v):
        fmt = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?",
               U64: "<Q", I64: "<q", F64: "<d"}
        if vtype == STRING:
            return self.s(v)
        if vtype == ARRAY:
            etype, items = v
            out = struct.pack("<I", etype) + self.n(len(items))
            return out + b"".join(self.value(etype, i) for i in items)
        return struct.pack(fmt[vtype], v)

    def add(self, key, vtype, v):
        self.kv.append(self.s(key) + struct.pack("<I", vtype) + self.value(vtype, v))

    def add_raw(self, raw):
        self.kv.append(raw)

    def tensor(self, name, dims, ggml_type, offset):
        self.tensors.append(self.s(name) + struct.pack("<I", len(dims)) + b"".join(self.n(d) for d in dims) +
                            struct.pack("<IQ", ggml_type, offset))

    def build(self, data=b"", alignment=32, counts=None, header_only=False):
        tc, kc = counts if counts else (len(self.tensors), len(self.kv))
        out = b"GGUF" + struct.pack("<I", self.version) + self.n(tc) + self.n(kc)
        out += b"".join(self.kv) + b"".join(self.tensors)
        if header_only:
            return out
        out += b"\0" * (-len(out) % alignment)
        return out + data


def save(name, blob):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(blob)


def benign_writer(version=3, template=BENIGN_TEMPLATE):
    w = Writer(version)
    w.add("general.architecture", STRING, "llama")
    w.add("general.name", STRING, "secmlops fixture")
    w.add("general.alignment", U32, 32)
    w.add("llama.context_length", U32, 2048)
    w.add("tokenizer.ggml.tokens", ARRAY, (STRING, ["<s>", "</s>", "hello", "world"]))
    w.add("tokenizer.ggml.scores", ARRAY, (F32, [0.0, 0.0, -1.5, -2.5]))
    w.add("tokenizer.chat_template", STRING, template)
    return w


def two_tensors(w):
    # 8×4 F32 = 128 bytes at 0, 32 Q8_0 elements = 34 bytes at 128 (padded to 192).
    w.tensor("token_embd.weight", [4, 8], GGML_F32, 0)
    w.tensor("blk.0.attn_q.weight", [32], GGML_Q8_0, 128)
    return bytes(128) + bytes(34) + bytes(-34 % 32)


w = benign_writer()
save("benign.gguf", w.build(two_tensors(w)))
w = benign_writer(version=1)
save("benign_v1.gguf", w.build(two_tensors(w)))

w = benign_writer(template=SSTI_TEMPLATE)
save("chat_template_ssti.gguf", w.build(two_tensors(w)))
w = benign_writer(template=CODE_TEMPLATE)
save("chat_template_code.gguf", w.build(two_tensors(w)))

w = benign_writer()
data = two_tensors(w)
save("trailing_data.gguf", w.build(data + b"PK\x03\x04" + b"hidden payload" * 8))

w = benign_writer()
w.tensor("a", [8], GGML_F32, 0)
w.tensor("b", [8], GGML_F32, 128)  # 32 bytes at 0, next at 128: 96 unexplained bytes
save("gap.gguf", w.build(bytes(160)))

w = benign_writer()
w.tensor("a", [16], GGML_F32, 0)
w.tensor("b", [8], GGML_F32, 32)
save("overlap.gguf", w.build(bytes(64)))

w = benign_writer()
w.tensor("a", [8], GGML_F32, 8)
save("misaligned.gguf", w.build(bytes(64)))

w = benign_writer()
w.tensor("a", [1024, 1024], GGML_F32, 0)
save("tensor_out_of_bounds.gguf", w.build(bytes(64)))

w = benign_writer()
w.tensor("a", [8], 4, 0)  # Q4_2: removed from ggml
w.tensor("b", [8], 200, 32)
save("unknown_tensor_type.gguf", w.build(bytes(64)))

w = benign_writer()
w.tensor("a", [2, 2, 2, 2, 2], GGML_F32, 0)
save("tensor_dims.gguf", w.build(bytes(128)))

w = benign_writer()
w.tensor("a", [33], GGML_Q8_0, 0)  # not a multiple of the 32-element block
save("tensor_block_dims.gguf", w.build(bytes(64)))

w = benign_writer()
w.tensor("a", [8], GGML_F32, 0)
w.tensor("a", [8], GGML_F32, 32)
save("duplicate_tensor.gguf", w.build(bytes(64)))

w = benign_writer()
w.add("general.name", STRING, "again")
save("duplicate_key.gguf", w.build())

w = Writer()
w.add("general.alignment", U32, 24)
save("bad_alignment.gguf", w.build())

w = benign_writer()
w.add("weird.nested", ARRAY, (ARRAY, [(U8, [1, 2]), (U8, [3])]))
save("nested_array.gguf", w.build())

w = benign_writer()
w.add_raw(w.s("weird.type") + struct.pack("<I", 77) + b"\0" * 8)
save("bad_value_type.gguf", w.build())

w = benign_writer()
w.add_raw(w.s("huge.string") + struct.pack("<IQ", STRING, 1 << 20))
save("string_out_of_bounds.gguf", w.build())

w = benign_writer()
w.add_raw(w.s("huge.string") + struct.pack("<IQ", STRING, 1 << 40))
save("string_limit.gguf", w.build())

w = benign_writer()
w.add_raw(w.s("huge.array") + struct.pack("<IIQ", ARRAY, U32, 1 << 20))
save("array_beyond_file.gguf", w.build())

w = benign_writer()
w.add_raw(w.s("huge.array") + struct.pack("<IIQ", ARRAY, U32, 1 << 40))
save("array_limit.gguf", w.build())

w = benign_writer()
save("count_limit.gguf", w.build(counts=(1 << 40, 7)))
save("count_beyond_file.gguf", w.build(counts=(0, 100_000)))

save("bad_version.gguf", b"GGUF" + struct.pack("<I", 7) + bytes(32))
w = benign_writer()
save("truncated.gguf", w.build(two_tensors(w))[:150])
