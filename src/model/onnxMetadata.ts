// Reads ModelProto.metadata_props (field 14: repeated StringStringEntryProto {key = 1, value = 2}) from ONNX bytes
// with a minimal protobuf wire-format walker, so the serving code needs no protobuf library.

const dec = new TextDecoder('utf-8', { fatal: true });

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++]!;
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [result, pos];
    mul *= 128;
  }
  throw new Error('varint too long');
}

function* fields(buf: Uint8Array): Generator<{ field: number; wire: number; bytes?: Uint8Array }> {
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p1] = readVarint(buf, pos);
    pos = p1;
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      pos = readVarint(buf, pos)[1];
      yield { field, wire };
    } else if (wire === 1) {
      pos += 8;
      yield { field, wire };
    } else if (wire === 5) {
      pos += 4;
      yield { field, wire };
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      if (p2 + len > buf.length) throw new Error('truncated field');
      yield { field, wire, bytes: buf.subarray(p2, p2 + len) };
      pos = p2 + len;
    } else throw new Error(`unsupported wire type ${wire}`);
    if (pos > buf.length) throw new Error('truncated message');
  }
}

export function readOnnxMetadata(model: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields(model)) {
    if (f.field !== 14 || !f.bytes) continue;
    let key = '';
    let value = '';
    for (const g of fields(f.bytes)) {
      if (g.field === 1 && g.bytes) key = dec.decode(g.bytes);
      if (g.field === 2 && g.bytes) value = dec.decode(g.bytes);
    }
    out[key] = value;
  }
  return out;
}
