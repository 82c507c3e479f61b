// A BlurHash decoder (https://blurha.sh, the algorithm by Wolt), written out so the demo needs no
// package. The API gives every ready photo a `blurhash`: ~30 characters that decode to a blurry
// preview, shown while the real image downloads. Decode it small (32×32) and let CSS stretch it.

const DIGITS =
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

function decode83(text) {
  let value = 0;
  for (const char of text) {
    const digit = DIGITS.indexOf(char);
    if (digit < 0) throw new Error(`blurhash: bad character ${char}`);
    value = value * 83 + digit;
  }
  return value;
}

// The hash stores colours in sRGB; the cosine sums are done in linear light.
function sRGBToLinear(value) {
  const v = value / 255;
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}

function linearToSRGB(value) {
  const v = Math.max(0, Math.min(1, value));
  return v <= 0.0031308
    ? Math.round(v * 12.92 * 255 + 0.5)
    : Math.round((1.055 * Math.pow(v, 1 / 2.4) - 0.055) * 255 + 0.5);
}

const signPow = (value, exponent) => Math.sign(value) * Math.pow(Math.abs(value), exponent);

/** The RGBA pixels (Uint8ClampedArray, width × height × 4) a blurhash stands for. */
export function decode(hash, width, height, punch = 1) {
  const sizeFlag = decode83(hash[0]);
  const componentsY = Math.floor(sizeFlag / 9) + 1;
  const componentsX = (sizeFlag % 9) + 1;
  if (hash.length !== 4 + 2 * componentsX * componentsY) {
    throw new Error(`blurhash: expected ${4 + 2 * componentsX * componentsY} characters`);
  }
  const maximum = ((decode83(hash[1]) + 1) / 166) * punch;

  const colours = [];
  for (let i = 0; i < componentsX * componentsY; i++) {
    if (i === 0) {
      // the average colour (DC): 24-bit sRGB
      const value = decode83(hash.substring(2, 6));
      colours.push([value >> 16, (value >> 8) & 255, value & 255].map(sRGBToLinear));
    } else {
      // each AC component: three values quantised to 19 levels
      const value = decode83(hash.substring(4 + i * 2, 6 + i * 2));
      const quantised = [Math.floor(value / 361), Math.floor(value / 19) % 19, value % 19];
      colours.push(quantised.map((q) => signPow((q - 9) / 9, 2) * maximum));
    }
  }

  const pixels = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0, g = 0, b = 0;
      for (let j = 0; j < componentsY; j++) {
        for (let i = 0; i < componentsX; i++) {
          const basis = Math.cos((Math.PI * x * i) / width) * Math.cos((Math.PI * y * j) / height);
          const colour = colours[i + j * componentsX];
          r += colour[0] * basis;
          g += colour[1] * basis;
          b += colour[2] * basis;
        }
      }
      const at = 4 * (x + y * width);
      pixels[at] = linearToSRGB(r);
      pixels[at + 1] = linearToSRGB(g);
      pixels[at + 2] = linearToSRGB(b);
      pixels[at + 3] = 255;
    }
  }
  return pixels;
}

/** A 32×32 canvas painted with the hash (CSS scales it to the photo's box). */
export function blurhashCanvas(hash) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 32;
  canvas.className = "blurhash";
  canvas.dataset.blurhash = hash;
  const context = canvas.getContext("2d");
  const image = context.createImageData(32, 32);
  image.data.set(decode(hash, 32, 32));
  context.putImageData(image, 0, 0);
  return canvas;
}
