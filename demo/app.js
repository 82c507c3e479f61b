// The screens of the demo: sign-up and sign-in, the profile, the composer (upload + post), the
// home feed with infinite scroll, likes and comments, people search and the activity list.
// Everything talks to the API through api.js; uploads go through upload.js.
import { api, ApiError, events, loadConfig, tokens } from "./api.js";
import { blurhashCanvas } from "./blurhash.js";
import { connectLive } from "./live.js";
import { requestUpload, sendToS3, waitUntilProcessed } from "./upload.js";

const $ = (selector) => document.querySelector(selector);
const PAGE_SIZE = 5; // small, so that infinite scroll shows with a few posts

/** One line in the log panel (newest first). */
function log(message, kind = "info") {
  const line = document.createElement("li");
  line.className = kind;
  line.textContent = message;
  $("#log").prepend(line);
}

/** Show an error the way users should see it: the API's Message, plus what Details add. */
function report(error) {
  if (error instanceof ApiError) {
    const fields = error.details.map((d) => d.field).filter(Boolean);
    const wait = error.retryAfter ? ` (try again in ${error.retryAfter} s)` : "";
    log(`${error.code}: ${error.message}${fields.length ? ` [${fields.join(", ")}]` : ""}${wait}`, "error");
  } else {
    log(String(error.message ?? error), "error");
  }
}

/** Run a form's submit handler with the button disabled and errors reported. */
function onSubmit(form, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button:not([type=button])");
    if (button) button.disabled = true;
    try {
      await handler(Object.fromEntries(new FormData(form)));
    } catch (error) {
      report(error);
    } finally {
      if (button && form.id !== "composer") button.disabled = false;
    }
  });
}

const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

// ---------------------------------------------------------------------------------------------
// Accounts: sign up → confirm → sign in (→ TOTP challenge when the user turned MFA on)

const pending = { email: "", password: "", session: "" }; // between the steps of a flow

onSubmit($("#signup-form"), async ({ email, username, name, password }) => {
  await api("/auth/signup", { method: "POST", body: { email, username, name, password }, auth: false });
  Object.assign(pending, { email, password });
  log(`signed up as @${username}: confirm the e-mail`);
  $("#signup-form").hidden = true;
  $("#confirm-form").hidden = false;
});

onSubmit($("#confirm-form"), async ({ code }) => {
  await api("/auth/confirm", { method: "POST", body: { email: pending.email, code }, auth: false });
  log("e-mail confirmed");
  $("#confirm-form").hidden = true;
  await signIn(pending.email, pending.password); // the user just typed it: don't ask again
});

onSubmit($("#login-form"), ({ email, password }) => signIn(email, password));

async function signIn(email, password) {
  const answer = await api("/auth/login", { method: "POST", body: { email, password }, auth: false });
  if (answer.challenge === "SOFTWARE_TOKEN_MFA") {
    // MFA is on: the login answer is a challenge, answered with a code from the authenticator app
    Object.assign(pending, { email, session: answer.session });
    $("#login-form").hidden = true;
    $("#mfa-form").hidden = false;
    log("enter the code from your authenticator app");
    return;
  }
  tokens.save(answer);
  log("signed in");
  await showApp();
}

onSubmit($("#mfa-form"), async ({ code }) => {
  const answer = await api("/auth/mfa/challenge", {
    method: "POST",
    body: { email: pending.email, session: pending.session, code },
    auth: false,
  });
  tokens.save(answer);
  $("#mfa-form").hidden = true;
  log("signed in (two-factor)");
  await showApp();
});

$("#sign-out").addEventListener("click", async () => {
  // Signs out every device: the refresh tokens stop working (the ID token lives on until expiry)
  const accessToken = localStorage.getItem("accessToken");
  if (accessToken) await api("/auth/logout", { method: "POST", body: { accessToken } }).catch(report);
  tokens.clear();
  live?.close();
  showAuth();
});

events.addEventListener("refreshed", () => log("ID token refreshed after a 401"));
events.addEventListener("signed-out", () => {
  log("session over: sign in again", "error");
  showAuth();
});

function showAuth() {
  $("#app").hidden = $("#whoami").hidden = true;
  $("#auth").hidden = false;
  $("#login-form").hidden = $("#signup-form").hidden = false;
  $("#confirm-form").hidden = $("#mfa-form").hidden = true;
}

// ---------------------------------------------------------------------------------------------
// Profile: JSON merge patch with If-Match, so two tabs editing at once get a 409, not a lost edit

let me = null;

async function showApp() {
  me = await api("/me");
  $("#auth").hidden = true;
  $("#app").hidden = $("#whoami").hidden = false;
  $("#me-handle").textContent = `@${me.username}`;
  fillProfile();
  await Promise.all([loadFeed(true), loadActivity()]);
  live?.close();
  live = connectLive(config.ws, onLive, (state) => {
    $("#live-state").textContent = state;
    log(`real time: ${state}`);
  });
}

function fillProfile() {
  const form = $("#profile-form");
  form.name.value = me.name;
  form.bio.value = me.profile?.bio ?? "";
}

onSubmit($("#profile-form"), async ({ name, bio }) => {
  try {
    me = await api("/me", {
      method: "PATCH",
      body: { name, profile: { bio } }, // only what the form edits: the rest stays as it is
      headers: { "If-Match": String(me.version) },
    });
    log(`profile saved (version ${me.version})`);
  } catch (error) {
    if (error.status === 409) {
      me = await api("/me"); // changed elsewhere: show the current one, let the user redo
      fillProfile();
    }
    throw error;
  }
});

// ---------------------------------------------------------------------------------------------
// Composer: upload with a progress bar, wait for processing, then post

let readyMedia = null;

$("#photo").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  readyMedia = null;
  $("#post-button").disabled = true;
  if (!file) return;
  const bar = $("#upload-progress");
  const status = $("#upload-status");
  const preview = $("#preview");
  preview.replaceChildren();
  preview.hidden = true;
  try {
    const { mediaId, upload } = await requestUpload(file);
    bar.hidden = false;
    bar.value = 0;
    status.textContent = "uploading…";
    await sendToS3(upload, file, (fraction) => {
      bar.value = fraction;
      status.textContent = `uploading… ${Math.round(fraction * 100)}%`;
    });
    status.textContent = "processing…";
    const media = await waitUntilProcessed(mediaId);
    if (media.status === "rejected") throw new Error(`photo rejected: ${media.rejectReason}`);
    readyMedia = media;
    preview.replaceWith(photo(media, "preview"));
    status.textContent = `ready (${media.width}×${media.height})`;
    log(`photo ${mediaId} ready`);
    $("#post-button").disabled = false;
  } catch (error) {
    status.textContent = "";
    report(error);
  }
});

onSubmit($("#composer"), async ({ caption }) => {
  const post = await api("/posts", {
    method: "POST",
    body: { caption, mediaIds: readyMedia ? [readyMedia.mediaId] : [] },
    // A retry of the same post (a timeout, a double click) must not post twice: one key per
    // post the user means, reused by any retry of it.
    headers: { "Idempotency-Key": crypto.randomUUID() },
  });
  log("posted");
  $("#feed").prepend(renderPost(post));
  const form = $("#composer");
  form.reset();
  readyMedia = null;
  $("#upload-progress").hidden = true;
  $("#upload-status").textContent = "";
  const preview = $("#preview");
  preview.replaceWith(el("div", { id: "preview", className: "photo", hidden: true }));
});

/** A photo box: the blurhash at once, the image over it once it has loaded. */
function photo(media, id = "") {
  const box = el("div", { className: "photo" });
  if (id) box.id = id;
  box.style.aspectRatio = `${media.width} / ${media.height}`;
  if (media.blurhash) box.append(blurhashCanvas(media.blurhash));
  const image = el("img", { alt: "", decoding: "async", loading: "lazy" });
  image.addEventListener("load", () => image.classList.add("loaded"));
  image.src = media.renditions.small;
  box.append(image);
  return box;
}

// ---------------------------------------------------------------------------------------------
// Home feed: cursor pagination, the next page fetched when the end of the list comes into view

let nextCursor = null;
let loading = false;

async function loadFeed(fromStart = false) {
  if (loading || (!fromStart && !nextCursor)) return;
  loading = true;
  try {
    const query = new URLSearchParams({ limit: PAGE_SIZE });
    if (!fromStart) query.set("cursor", nextCursor); // opaque: pass it back as it came
    const page = await api(`/feed?${query}`);
    if (fromStart) $("#feed").replaceChildren();
    $("#feed").append(...page.items.map(renderPost));
    nextCursor = page.nextCursor;
    $("#feed-end").textContent = nextCursor ? "…" : "You're all caught up";
  } catch (error) {
    report(error);
  } finally {
    loading = false;
  }
}

new IntersectionObserver((entries) => {
  if (entries.some((entry) => entry.isIntersecting) && !$("#app").hidden) loadFeed();
}).observe($("#feed-end"));

$("#feed-refresh").addEventListener("click", () => loadFeed(true));

function renderPost(post) {
  const likeButton = el("button", { type: "button", className: "like" });
  const comments = el("ul", { className: "comments" });
  const commentCount = el("span", { className: "comment-count" });
  const card = el(
    "article",
    { className: "post card" },
    el("header", {}, el("strong", {}, post.author.name), ` @${post.author.username}`),
    ...post.media.map((media) => photo(media)),
    el("p", { className: "caption" }, post.caption),
    el("div", { className: "row" }, likeButton, commentCount),
    comments,
  );
  card.dataset.postId = post.postId;

  const show = () => {
    likeButton.textContent = `${post.likedByMe ? "♥" : "♡"} ${post.likeCount}`;
    likeButton.setAttribute("aria-pressed", String(post.likedByMe));
    commentCount.textContent = `${post.commentCount} comment${post.commentCount === 1 ? "" : "s"}`;
  };
  show();

  // Optimistic like: change the heart and the count at once, send, then take the server's count
  // (others may have liked meanwhile); put the old state back if the call fails.
  likeButton.addEventListener("click", async () => {
    const before = { likedByMe: post.likedByMe, likeCount: post.likeCount };
    post.likedByMe = !post.likedByMe;
    post.likeCount += post.likedByMe ? 1 : -1;
    show();
    try {
      const answer = await api(`/posts/${post.postId}/like`, { method: post.likedByMe ? "PUT" : "DELETE" });
      post.likeCount = answer.likeCount; // PUT and DELETE are idempotent: a retry is harmless
      show();
    } catch (error) {
      Object.assign(post, before);
      show();
      report(error);
    }
  });

  const form = el(
    "form",
    { className: "comment-form" },
    el("input", { name: "text", placeholder: "add a comment", required: true, maxLength: 1000 }),
    el("button", {}, "Comment"),
  );
  onSubmit(form, async ({ text }) => {
    const comment = await api(`/posts/${post.postId}/comments`, { method: "POST", body: { text } });
    comments.append(el("li", {}, el("strong", {}, `@${comment.author.username} `), comment.text));
    post.commentCount += 1;
    show();
    form.reset();
  });
  card.append(form);
  return card;
}

// ---------------------------------------------------------------------------------------------
// People: search, follow (a follow copies their recent posts into your feed, in the background)

onSubmit($("#people-form"), async ({ q }) => {
  const page = await api(`/users?${new URLSearchParams({ q, limit: 10 })}`);
  $("#people").replaceChildren(
    ...page.items.map((user) => {
      const follow = el("button", { type: "button" }, "Follow");
      follow.addEventListener("click", async () => {
        try {
          await api(`/users/${encodeURIComponent(user.username)}/follow`, { method: "PUT" });
          follow.textContent = "Following";
          follow.disabled = true;
          log(`following @${user.username}: their posts join your feed shortly`);
        } catch (error) {
          report(error);
        }
      });
      return el("li", { className: "row" }, `${user.name} @${user.username}`, follow);
    }),
  );
});

// ---------------------------------------------------------------------------------------------
// Activity: likes, comments and follows of your things; mark them read

const VERBS = {
  like: "liked your post",
  comment: "commented on your post",
  follow: "followed you",
  follow_request: "asked to follow you",
  follow_accepted: "accepted your follow request",
  mention: "mentioned you",
  reply: "replied to your comment",
};

function activityItem(item) {
  return el("li", { className: item.read ? "read" : "unread" }, `@${item.actor.username} ${VERBS[item.type] ?? item.type}`);
}

// Real time (live.js): a notification arrives as it is written; a followed user's new post
// shows a "new posts" button instead of moving the feed under the reader's eyes.
let live = null;

function onLive(message) {
  if (message.type === "activity") {
    $("#activity").prepend(activityItem(message.item));
    log(`live: @${message.item.actor.username} ${VERBS[message.item.type] ?? message.item.type}`);
  } else if (message.type === "feed") {
    $("#feed-new").hidden = false;
  }
}

$("#feed-new").addEventListener("click", () => {
  $("#feed-new").hidden = true;
  loadFeed(true);
});

async function loadActivity() {
  try {
    const page = await api("/activity?limit=20");
    $("#activity").replaceChildren(
      ...page.items.map(activityItem),
    );
    if (page.items.length && !page.items[0].read) {
      await api("/activity/read", { method: "POST", body: { upTo: page.items[0].createdAt } });
    }
  } catch (error) {
    report(error);
  }
}

$("#activity-refresh").addEventListener("click", loadActivity);

// ---------------------------------------------------------------------------------------------

const config = await loadConfig();
if (tokens.idToken) {
  showApp().catch((error) => {
    report(error);
    showAuth();
  });
} else {
  showAuth();
}
