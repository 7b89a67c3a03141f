/** IEEE half <-> single conversion for safetensors F16 tensors (Node 20 has no Float16Array). */

const scratch = new DataView(new ArrayBuffer(4));

/** Rounds to nearest-even, saturating to ±Infinity past the half range, keeping NaN. */
export function float32ToFloat16Bits(value: number): number {
  scratch.setFloat32(0, value);
  const bits = scratch.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    const rounded = (full >>> shift) + roundBit(full, shift);
    return sign | rounded;
  }
  const rounded = (halfExponent << 10) | (mantissa >>> 13);
  return sign | (rounded + roundBit(mantissa, 13));
}

/** 1 when the bits below `shift` round the kept part up (ties to even). */
function roundBit(value: number, shift: number): number {
  const half = 1 << (shift - 1);
  const rest = value & ((1 << shift) - 1);
  const keptIsOdd = (value >>> shift) & 1;
  return rest > half || (rest === half && keptIsOdd) ? 1 : 0;
}

export function float16BitsToFloat32(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
