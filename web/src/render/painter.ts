/**
 * When the views draw. Snapshots arrive a few times a second while training; drawing them
 * all at once, page-wide, would make long main-thread tasks (and take CPU from the training
 * threads on a small machine). So a view is drawn only while it is on screen (or close to
 * it), catching up with the latest data when it scrolls into view; draws wait for an
 * animation frame, a newer draw of the same view replaces one not yet done, and a frame does
 * at most ~10 ms of drawing, leaving the rest for the next frame.
 */

const BUDGET_MS = 10;

export class Painter {
  private readonly latest = new Map<Element, () => void>();
  private readonly queue = new Map<Element, () => void>();
  private readonly visible = new Set<Element>();
  private readonly observed = new WeakSet<Element>();
  private frame = 0;
  private readonly observer = new IntersectionObserver(
    (entries) => {
      for (const e of entries) {
        if (e.isIntersecting) {
          this.visible.add(e.target);
          const draw = this.latest.get(e.target);
          if (draw) this.enqueue(e.target, draw);
        } else {
          this.visible.delete(e.target);
        }
      }
    },
    { rootMargin: '300px 0px' },
  );

  /** Draws `draw` into `el` soon if it is on screen, otherwise once it scrolls into view. */
  paint(el: Element, draw: () => void): void {
    if (!this.observed.has(el)) {
      this.observed.add(el);
      this.observer.observe(el);
    }
    this.latest.set(el, draw);
    if (this.visible.has(el)) this.enqueue(el, draw);
  }

  private enqueue(el: Element, draw: () => void): void {
    this.queue.set(el, () => {
      // Drawn: nothing left to catch up with until the next paint() call.
      if (this.latest.get(el) === draw) this.latest.delete(el);
      draw();
    });
    if (!this.frame) this.frame = requestAnimationFrame(() => this.run());
  }

  private run(): void {
    this.frame = 0;
    const start = performance.now();
    for (const [el, draw] of this.queue) {
      this.queue.delete(el);
      draw();
      if (performance.now() - start > BUDGET_MS) break;
    }
    if (this.queue.size && !this.frame) this.frame = requestAnimationFrame(() => this.run());
  }
}
