/**
 * The project's only entry to @jax-js/jax. Importing through here evaluates the Node shims
 * before jax-js builds its wasm backend, whatever module a program loads first.
 */
import "./preload.js";

export * from "@jax-js/jax";
