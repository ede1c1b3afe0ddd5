/**
 * Registry credentials and the two challenges registries send with a 401: `Basic` (send the
 * user and password) and `Bearer` (fetch a token from the realm, with the credentials when we
 * have them, anonymously otherwise: ghcr.io asks for this even for public images).
 */

import { OciError } from "./reference.ts";

/** A user and password (or token) for one registry. */
export interface Credentials {
  username: string;
  password: string;
}

/** A parsed `WWW-Authenticate` challenge. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="...",service="...",scope="..."` (quoted or bare values). */
export function parseChallenge(header: string): Challenge {
  const space = header.indexOf(" ");
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  const rest = space < 0 ? "" : header.slice(space + 1);
  for (const m of rest.matchAll(/([A-Za-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3];
  }
  return { scheme, params };
}

/** `Basic` header value for credentials. */
export function basicAuthorization(c: Credentials): string {
  const bytes = new TextEncoder().encode(`${c.username}:${c.password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/** Where docker keeps credentials: `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
function dockerConfigPath(): string | undefined {
  const dir = Deno.env.get("DOCKER_CONFIG");
  if (dir) return `${dir}/config.json`;
  const home = Deno.env.get("HOME");
  return home ? `${home}/.docker/config.json` : undefined;
}

/** Credentials for `registry` from docker's config (`auths`, as `docker login` writes them
 * without a credential helper); undefined when there are none. */
export function dockerCredentials(registry: string): Credentials | undefined {
  const path = dockerConfigPath();
  if (!path) return undefined;
  let config: unknown;
  try {
    config = JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new OciError(`cannot read registry credentials from ${path}: ${(e as Error).message}`);
  }
  const auths =
    (config as { auths?: Record<string, { auth?: string; username?: string; password?: string }> })
      ?.auths;
  if (typeof auths !== "object" || auths === null) return undefined;
  const keys = [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`];
  for (const key of keys) {
    const entry = auths[key];
    if (!entry || typeof entry !== "object") continue;
    if (typeof entry.username === "string" && typeof entry.password === "string") {
      return { username: entry.username, password: entry.password };
    }
    if (typeof entry.auth === "string") {
      const text = new TextDecoder().decode(
        Uint8Array.from(atob(entry.auth), (c) => c.charCodeAt(0)),
      );
      const colon = text.indexOf(":");
      if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1) };
    }
  }
  return undefined;
}
