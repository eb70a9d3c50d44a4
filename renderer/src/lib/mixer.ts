// One Web Audio graph plays the mixture and every stem: each track's decoded buffer feeds its own
// gain node, and all sources start on the same frame of one context clock. The tracks stay
// sample-aligned (stems that add up to the mixture do not comb-filter when heard together), and
// what is heard (A/B, solo, mute, balance) is only a change of gains.
export class Mixer {
  readonly ctx: AudioContext;
  private readonly buffers = new Map<string, AudioBuffer>();
  private readonly gains = new Map<string, GainNode>();
  private sources: AudioBufferSourceNode[] = [];
  /** Context time at which position 0 played (while playing). */
  private startedAt = 0;
  /** The position while paused. */
  private offset = 0;
  /** Bumped by every start and stop: a stale source's `ended` is ignored. */
  private generation = 0;
  playing = false;
  onEnded: (() => void) | null = null;

  constructor(ids: readonly string[], sampleRate: number, readonly duration: number) {
    // At the tracks' own rate, so decoding does not resample and every track keeps the same frames.
    this.ctx = new AudioContext({ sampleRate, latencyHint: 'interactive' });
    for (const id of ids) {
      const g = this.ctx.createGain();
      g.gain.value = 0;
      g.connect(this.ctx.destination);
      this.gains.set(id, g);
    }
  }

  async load(id: string, url: string, signal: AbortSignal): Promise<AudioBuffer> {
    const res = await fetch(url, { signal });
    if (!res.ok) throw new Error(res.status === 401 ? 'this tab is no longer signed in to the server' : `the server answered ${res.status}`);
    const buf = await this.ctx.decodeAudioData(await res.arrayBuffer());
    this.buffers.set(id, buf);
    return buf;
  }

  buffer(id: string): AudioBuffer | undefined {
    return this.buffers.get(id);
  }

  position(): number {
    if (!this.playing) return this.offset;
    return Math.min(this.duration, Math.max(0, this.ctx.currentTime - this.startedAt));
  }

  async play(): Promise<void> {
    if (this.playing) return;
    await this.ctx.resume();
    if (this.offset >= this.duration - 1e-3) this.offset = 0;
    this.start(this.offset);
  }

  pause(): void {
    if (!this.playing) return;
    this.offset = this.position();
    this.stopSources();
    this.playing = false;
  }

  seek(t: number): void {
    const at = Math.max(0, Math.min(this.duration, t));
    if (!this.playing) {
      this.offset = at;
      return;
    }
    this.stopSources();
    this.start(at);
  }

  /** Sets a track's gain; while playing it glides over a few ms, so switching does not click. */
  setGain(id: string, value: number): void {
    const g = this.gains.get(id)?.gain;
    if (!g) return;
    g.cancelScheduledValues(0);
    if (this.playing) g.setTargetAtTime(value, this.ctx.currentTime, 0.01);
    else g.value = value;
  }

  /** The graph as it stands (what is heard): for the tests and the devtools. */
  describe(): {
    state: AudioContextState; sampleRate: number; playing: boolean; position: number; sources: number; gains: Record<string, number>;
    tracks: Record<string, { channels: number; frames: number; sampleRate: number }>;
  } {
    return {
      state: this.ctx.state, sampleRate: this.ctx.sampleRate, playing: this.playing, position: this.position(), sources: this.sources.length,
      gains: Object.fromEntries([...this.gains].map(([id, g]) => [id, g.gain.value])),
      tracks: Object.fromEntries([...this.buffers].map(([id, b]) => [id, { channels: b.numberOfChannels, frames: b.length, sampleRate: b.sampleRate }])),
    };
  }

  async close(): Promise<void> {
    this.stopSources();
    this.playing = false;
    await this.ctx.close();
  }

  private start(at: number): void {
    const generation = ++this.generation;
    // A short lead puts every start on the same future frame.
    const when = this.ctx.currentTime + 0.03;
    this.sources = [...this.buffers].map(([id, b]) => {
      const s = this.ctx.createBufferSource();
      s.buffer = b;
      s.connect(this.gains.get(id)!);
      s.start(when, at);
      return s;
    });
    this.startedAt = when - at;
    this.playing = true;
    const first = this.sources[0];
    if (first) {
      first.onended = () => {
        if (generation !== this.generation) return;
        this.stopSources();
        this.playing = false;
        this.offset = 0;
        this.onEnded?.();
      };
    }
  }

  private stopSources(): void {
    this.generation++;
    for (const s of this.sources) {
      s.onended = null;
      s.stop();
      s.disconnect();
    }
    this.sources = [];
  }
}

/** dB -> linear gain; -60 dB and below is silence. */
export function dbToGain(db: number): number {
  return db <= -60 ? 0 : 10 ** (db / 20);
}
