// Uploading a photo: the bytes go straight from the browser to S3, never through the API.
//   1. POST /media {contentType, contentLength, purpose} → {mediaId, upload: {url, fields}}:
//      a presigned POST whose policy pins the key, the content type and the exact length;
//   2. POST a multipart form to upload.url: every field as given, then the file, LAST
//      (S3 ignores fields after the file). XHR, not fetch(), because only XHR reports upload
//      progress (xhr.upload.onprogress);
//   3. S3 notifies the backend, which makes the renditions: poll GET /media/{id} until its
//      status leaves "pending" ("ready", or "rejected" with a rejectReason).
import { api } from "./api.js";

/** Ask for an upload slot for `file` (a File from an <input type="file">). */
export function requestUpload(file, purpose = "post") {
  return api("/media", {
    method: "POST",
    body: { contentType: file.type, contentLength: file.size, purpose },
  });
}

/**
 * Send `file` with the presigned form; `onProgress(fraction)` as bytes go out. Resolves when S3
 * has stored it (204); rejects with S3's own error (XML: <Code>, <Message>) otherwise, e.g.
 * EntityTooLarge when the file is not the size announced in step 1.
 */
export function sendToS3(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append("file", file); // the file goes last
    const xhr = new XMLHttpRequest();
    xhr.open("POST", upload.url);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
        return;
      }
      const xml = new DOMParser().parseFromString(xhr.responseText, "application/xml");
      const code = xml.querySelector("Code")?.textContent ?? `HTTP ${xhr.status}`;
      const message = xml.querySelector("Message")?.textContent ?? "";
      reject(new Error(`S3 refused the upload: ${code} ${message}`));
    };
    xhr.onerror = () => reject(new Error("the upload failed (network or CORS)"));
    xhr.send(form);
  });
}

/**
 * Poll the media until it is processed. Processing takes well under a second locally and a
 * few seconds in the cloud: start fast, back off, give up after ~60 s.
 */
export async function waitUntilProcessed(mediaId, onPending = () => {}) {
  let delay = 200;
  for (let waited = 0; waited < 60_000; waited += delay, delay = Math.min(delay * 1.5, 3000)) {
    const media = await api(`/media/${mediaId}`);
    if (media.status !== "pending") return media;
    onPending(media);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  throw new Error("the photo is still being processed: try again later");
}
