/**
 * A minimal protobuf wire-format reader: just enough to walk an ONNX ModelProto. Pulling protobufjs into the SDK
 * core would cost more than the whole evaluator, and the ONNX subset we read is a handful of fields.
 *
 * Usage: `for (const f of fields(bytes)) switch (f.field) { … }`, reading each field with the helpers below.
 */
import { EngineError } from '../../errors.ts';

/** Wire types of the protobuf encoding. */
export const enum Wire {
  Varint = 0,
  Fixed64 = 1,
  Bytes = 2,
  Fixed32 = 5,
}

/** One field as read from the wire. `varint` for wire type 0 (as a JS number, exact up to 2^53), `bytes` for type 2. */
export interface Field {
  field: number;
  wire: Wire;
  /** Value of a varint (wire 0) field; for negative int64 values the two's-complement is undone. */
  varint: number;
  /** Payload of a length-delimited (wire 2) field, or the 4/8 raw bytes of a fixed field. */
  bytes: Uint8Array;
}

function fail(message: string): never {
  throw new EngineError(`malformed ONNX protobuf: ${message}`);
}

/**
 * Reads a varint at `pos`; returns [value, next position]. The value is read as a signed 64-bit integer (negative
 * int32/int64 values are sign-extended on the wire) and returned as a JS number, exact within ±2^53.
 */
export function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let lo = 0;
  let hi = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (pos >= buf.length) fail('truncated varint');
    const b = buf[pos++];
    const bits = b & 0x7f;
    if (shift < 28) lo |= bits << shift;
    else if (shift === 28) {
      lo |= bits << 28;
      hi |= bits >>> 4;
    } else hi |= bits << (shift - 32);
    if (!(b & 0x80)) return [(hi | 0) * 4294967296 + (lo >>> 0), pos];
  }
  fail('varint longer than 10 bytes');
}

/** Iterates over the fields of one message. */
export function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p] = readVarint(buf, pos);
    pos = p;
    const field = Math.floor(tag / 8);
    const wire = (tag & 7) as Wire;
    if (field === 0) fail('field number 0');
    switch (wire) {
      case Wire.Varint: {
        const [v, q] = readVarint(buf, pos);
        pos = q;
        yield { field, wire, varint: v, bytes: EMPTY };
        break;
      }
      case Wire.Fixed64:
        if (pos + 8 > buf.length) fail('truncated fixed64');
        yield { field, wire, varint: 0, bytes: buf.subarray(pos, pos + 8) };
        pos += 8;
        break;
      case Wire.Fixed32:
        if (pos + 4 > buf.length) fail('truncated fixed32');
        yield { field, wire, varint: 0, bytes: buf.subarray(pos, pos + 4) };
        pos += 4;
        break;
      case Wire.Bytes: {
        const [len, q] = readVarint(buf, pos);
        if (len < 0 || q + len > buf.length) fail(`length ${len} overruns the buffer`);
        yield { field, wire, varint: 0, bytes: buf.subarray(q, q + len) };
        pos = q + len;
        break;
      }
      default:
        fail(`unsupported wire type ${wire as number} (field ${field})`);
    }
  }
}

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder();

/** A length-delimited field as a UTF-8 string. */
export function str(f: Field): string {
  return utf8.decode(f.bytes);
}

/** A repeated integer field: packed (wire 2) or one value per occurrence (wire 0). Appends to `out`. */
export function ints(f: Field, out: number[]): number[] {
  if (f.wire === Wire.Varint) out.push(f.varint);
  else if (f.wire === Wire.Bytes) {
    let pos = 0;
    while (pos < f.bytes.length) {
      const [v, q] = readVarint(f.bytes, pos);
      out.push(v);
      pos = q;
    }
  } else fail(`field ${f.field}: expected integers, got wire type ${f.wire}`);
  return out;
}

/** A repeated float field: packed (wire 2) or one fixed32 per occurrence (wire 5). Appends to `out`. */
export function floats(f: Field, out: number[]): number[] {
  return fixed(f, out, 4, Wire.Fixed32, (v, i) => v.getFloat32(i, true));
}

/** A repeated double field: packed (wire 2) or one fixed64 per occurrence (wire 1). Appends to `out`. */
export function doubles(f: Field, out: number[]): number[] {
  return fixed(f, out, 8, Wire.Fixed64, (v, i) => v.getFloat64(i, true));
}

function fixed(f: Field, out: number[], width: number, wire: Wire, get: (v: DataView, i: number) => number): number[] {
  if (f.wire !== Wire.Bytes && f.wire !== wire) fail(`field ${f.field}: expected ${width * 8}-bit floats, got wire type ${f.wire}`);
  if (f.bytes.length % width) fail(`field ${f.field}: packed floats of ${f.bytes.length} bytes`);
  const view = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
  for (let i = 0; i < f.bytes.length; i += width) out.push(get(view, i));
  return out;
}
