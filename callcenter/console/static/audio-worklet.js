/* The call's audio in the browser's audio thread (loaded by audio.js with
   audioWorklet.addModule): the microphone resampled to the wire rate in 20 ms frames,
   and the frames from the server played through a small jitter buffer.
   Wire format (docs/websocket.md#call-audio-wsagentaudio): 16-bit PCM, 8 kHz, 160 samples. */
"use strict";

const WIRE_RATE = 8000;
const FRAME_SAMPLES = 160;

/** Microphone -> 20 ms Int16 frames at 8 kHz, posted to the page (linear resampling). */
class MicCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / WIRE_RATE; // input samples per wire sample
    this.pos = 0; // position of the next wire sample in the current input block
    this.frame = new Int16Array(FRAME_SAMPLES);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    while (this.pos < channel.length) {
      const i = Math.floor(this.pos);
      const frac = this.pos - i;
      const a = channel[i];
      const b = i + 1 < channel.length ? channel[i + 1] : channel[i];
      const value = a + (b - a) * frac;
      this.frame[this.filled++] = Math.max(-32768, Math.min(32767, Math.round(value * 32767)));
      if (this.filled === FRAME_SAMPLES) {
        const out = this.frame;
        this.port.postMessage(out.buffer, [out.buffer]);
        this.frame = new Int16Array(FRAME_SAMPLES);
        this.filled = 0;
      }
      this.pos += this.step;
    }
    this.pos -= channel.length;
    return true;
  }
}

/** Frames from the server (posted by the page) -> the speaker, upsampled linearly.
    Starts after PREBUFFER frames; holds at most MAX_FRAMES (the oldest go); plays
    silence when it runs dry and waits for PREBUFFER frames again. */
class CallPlayback extends AudioWorkletProcessor {
  constructor() {
    super();
    this.PREBUFFER = 3;
    this.MAX_FRAMES = 10;
    this.queue = [];
    this.current = null;
    this.pos = 0; // position in `current`, in wire samples
    this.step = WIRE_RATE / sampleRate;
    this.playing = false;
    this.port.onmessage = (event) => {
      this.queue.push(new Int16Array(event.data));
      if (this.queue.length > this.MAX_FRAMES) this.queue.shift();
      // A backlog after a stall drains one frame per arrival instead of lasting.
      else if (this.queue.length > this.PREBUFFER + 2) this.queue.shift();
    };
  }

  process(inputs, outputs) {
    const out = outputs[0][0];
    if (!this.playing && this.queue.length >= this.PREBUFFER) this.playing = true;
    for (let n = 0; n < out.length; n++) {
      if (!this.current || this.pos >= FRAME_SAMPLES) {
        if (this.current) this.pos -= FRAME_SAMPLES;
        this.current = this.playing ? this.queue.shift() || null : null;
        if (!this.current) {
          this.playing = false;
          this.pos = 0;
          out[n] = 0;
          continue;
        }
      }
      const i = Math.floor(this.pos);
      const frac = this.pos - i;
      const a = this.current[i];
      const b = i + 1 < FRAME_SAMPLES ? this.current[i + 1] : a;
      out[n] = (a + (b - a) * frac) / 32768;
      this.pos += this.step;
    }
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    return true;
  }
}

registerProcessor("mic-capture", MicCapture);
registerProcessor("call-playback", CallPlayback);
