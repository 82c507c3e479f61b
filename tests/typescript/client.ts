// What a TypeScript frontend gets from `npx openapi-typescript openapi.json --default-non-nullable
// false`: `make openapi-types` generates build/api.d.ts from the app's document and type-checks
// this file against it (tsc --strict). Each value below has the shape the API really answers or
// takes; a schema that makes a generated type disagree with a real answer fails `make test`.
// (--default-non-nullable false: a request field with a default stays optional; answers mark
// every field they always carry as required, so those are typed as present either way.)
import type { components, paths } from "../../build/api";

type Json<P extends keyof paths, M extends keyof paths[P], S extends number> =
  paths[P][M] extends { responses: { [K in S]: { content: { "application/json": infer T } } } }
    ? T
    : never;

// Sign-in answers tokens; a refresh answers them without a refresh token.
const signedIn: Json<"/auth/login", "post", 200> = {
  idToken: "eyJ...",
  accessToken: "eyJ...",
  refreshToken: "eyJ...",
  expiresIn: 3600,
};
const refreshed: Json<"/auth/refresh", "post", 200> = {
  idToken: "eyJ...",
  accessToken: "eyJ...",
  expiresIn: 3600,
};

// Errors: the envelope, with Details only where they help.
const notFound: Json<"/posts/{postId}", "get", 404> = {
  Code: "NotFoundError",
  Message: "post not found",
};
const invalid: Json<"/posts", "post", 400> = {
  Code: "BadRequestError",
  Message: "caption: at most 2200 characters",
  Details: [{ field: "caption", reason: "too_long", message: "at most 2200 characters" }],
};
const limited: Json<"/posts", "post", 429> = { Code: "TooManyRequestsError", Message: "slow down" };

// A page of the feed, and what a client reads of it.
const feed: Json<"/feed", "get", 200> = { items: [], nextCursor: null };
const next: string | null = feed.nextCursor;

// A profile with links both ways (a URL, or {url, title}).
type Profile = components["schemas"]["MeOut"]["profile"];
const profile: Profile = {
  bio: "photographs",
  links: ["https://example.com", { url: "https://example.org", title: "portfolio" }],
};

// Fields an answer always carries are typed as present (no `undefined` to handle).
type PostOut = components["schemas"]["PostOut"];
const flags = (p: PostOut): boolean[] => [p.sensitive, p.bookmarkedByMe, p.likedByMe];
const avatar = (p: PostOut): string | undefined => p.author.avatarUrls?.thumb ?? undefined;

// The request bodies a client builds: fields with a default may be left out.
const post: components["schemas"]["PostIn"] = {
  caption: "#sunset",
  mediaIds: ["01J0000000000000000000000"],
};
const media: components["schemas"]["MediaRequestIn"] = {
  contentType: "image/jpeg",
  contentLength: 1000,
  purpose: "post",
};

export const examples = [
  signedIn, refreshed, notFound, invalid, limited, next, profile, flags, avatar, post, media,
];
