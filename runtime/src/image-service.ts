import type { Span } from '@opentelemetry/api';
import { toCriImage, toImageFsInfo, CONTAINERD } from './cri-messages.js';
import type { ImageStatusRequest, PullImageRequest } from './cri-types.js';
import { wrapped } from './errors.js';
import { goDuration, goQuote as q } from './go-format.js';
import { formatRef, parseDockerRef } from './image-refs.js';
import { addImage, imageFor, repoDigests, resolveImage, sha256Hex, type ImageRecord } from './images.js';
import type { Runtime } from './runtime.js';
import { ATTR, CRI_EVENTS, IMAGE_NOT_FOUND_EVENT } from './spans.js';
import { pullDuration } from './timing.js';

/**
 * containerd's CRI image service (internal/cri/server/images/*.go, v2.1;
 * pkg/cri/server/image_*.go, v1.7) over the simulated image store. `span` is
 * the one the image code sees: the server span in 2.x, 1.7's internal
 * pkg.cri.server.<Method> span.
 */

/** Bytes the transfer service reads for an image already present: the index and manifest only (est. 2–10 KB). */
export function manifestBytes(ref: string): number {
  return 2048 + (parseInt(sha256Hex(`manifest-size ${ref}`).slice(0, 6), 16) % 8192);
}

export async function pullImage(rt: Runtime, span: Span, req: PullImageRequest): Promise<{ imageRef: string }> {
  const start = rt.now();
  const name = req.image?.image ?? '';
  const parsed = parseDockerRef(name);
  if ('error' in parsed) throw wrapped(`failed to parse image reference ${q(name)}`, parsed.error);
  const ref = formatRef(parsed.ref);
  span.setAttributes({ [ATTR.imageRef]: ref, [ATTR.snapshotterName]: CONTAINERD.snapshotter });
  const present = resolveImage(rt.images, ref);
  const cached = present !== undefined && present.references.includes(ref);
  const image: ImageRecord = cached ? present : imageFor(parsed.ref);
  await rt.sleep(pullDuration(rt.timing, image.size, cached, rt.jitter));
  // The transfer progress reporter logs from its goroutine as the pull context is cancelled.
  rt.log(span, {
    level: 'info',
    message: `stop pulling image ${ref}: active requests=0, bytes read=${cached ? manifestBytes(ref) : image.size}`,
  });
  span.addEvent(CRI_EVENTS.pullComplete().name);
  rt.images = addImage(rt.images, image);
  const repoTag = parsed.ref.tag !== undefined ? ref : '';
  const repoDigest = parsed.ref.digest !== undefined ? ref : (repoDigests(image)[0] ?? '');
  rt.log(span, {
    level: 'info',
    message:
      `Pulled image ${q(name)} with image id ${q(image.id)}, repo tag ${q(repoTag)}, repo digest ${q(repoDigest)}, ` +
      `size ${q(String(image.size))} in ${goDuration(rt.now() - start)}`,
  });
  return { imageRef: image.id };
}

export async function imageStatus(rt: Runtime, span: Span, req: ImageStatusRequest) {
  await rt.delay('imageStatus');
  const image = resolveImage(rt.images, req.image?.image ?? '');
  // A missing image is an empty response, not an error: that is how kubelet learns it must pull.
  if (!image) {
    if (rt.profile.imageStatusAnnotations) span.addEvent(IMAGE_NOT_FOUND_EVENT);
    return { image: null, info: {} };
  }
  if (rt.profile.imageStatusAnnotations) span.setAttribute(ATTR.imageId, image.id);
  const info = req.verbose ? { info: JSON.stringify({ chainID: `sha256:${sha256Hex(`chain ${image.id}`)}`, imageSpec: {} }) } : {};
  return { image: toCriImage(image), info };
}

/** ListImages: containerd ignores the filter. */
export async function listImages(rt: Runtime) {
  await rt.delay('list');
  return { images: rt.images.map(toCriImage) };
}

/** Each container's writable layer holds little until the workload writes (est. 12 KiB). */
const CONTAINER_LAYER_BYTES = 12_288;

export async function imageFsInfo(rt: Runtime) {
  await rt.delay('imageFsInfo');
  return toImageFsInfo(rt.images, rt.containers.size * CONTAINER_LAYER_BYTES, rt.now());
}
