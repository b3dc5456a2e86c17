import * as crypto from "node:crypto";

/**
 * The sha256 of a text (its UTF-8 bytes), in hex. crypto.hash (Node 20.12 and later) hashes a
 * 400-byte body in about 1.1 µs, against 2.4 µs for a Hash object; package.json allows Node
 * 20.9, which lacks it.
 */
export const sha256Hex: (text: string) => string =
  typeof crypto.hash === "function"
    ? (text) => crypto.hash("sha256", text, "hex")
    : (text) => crypto.createHash("sha256").update(text).digest("hex");
