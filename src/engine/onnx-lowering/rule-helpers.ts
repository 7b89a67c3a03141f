/** What every primitive rule shares: its signature and its outputs' avals. */
import { onnxTypeOf, type JaxprEqn, type LoweredGraph, type LoweredValue } from "./lowered-graph.js";

export type PrimitiveRule = (ctx: LoweredGraph, eqn: JaxprEqn) => LoweredValue[];

export const outAval = (eqn: JaxprEqn, i = 0) => eqn.outBinders[i]!.aval;
export const outType = (eqn: JaxprEqn, i = 0) => onnxTypeOf(outAval(eqn, i).dtype, `${eqn.primitive}'s output`);

/** Output i of `eqn` held in tensor `name`, whose own shape is `shape`. */
export const result = (name: string, shape: number[], eqn: JaxprEqn, i = 0): LoweredValue => ({
  name,
  shape,
  full: [...outAval(eqn, i).shape],
  type: outType(eqn, i),
});
