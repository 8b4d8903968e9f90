/* The console as the agent's phone: the call's audio over /ws/agent/audio
   (docs/websocket.md#call-audio-wsagentaudio). Opened when a call connects; an agent
   with a SIP phone gets close 4404 and the page says the phone carries the audio.
   The microphone is asked for only once the server confirms a browser call. In a cluster
   the audio is on the server holding the call's legs, which call_connected names
   (audio_url); without one, this page's own server. */
"use strict";

window.CCAudio = (() => {
  const NO_CALL = 4404;

  class CallAudio {
    /** onChange({status, sent, received}) is called on every change of the counters. */
    constructor(onChange) {
      this.onChange = onChange;
      this.ws = null;
      this.context = null;
      this.stream = null;
      this.status = "idle";
      this.sent = 0;
      this.received = 0;
      this.callId = null;
    }

    report() {
      this.onChange({ status: this.status, sent: this.sent, received: this.received });
    }

    /** Open the call's audio at `url` (default: this page's server); idempotent for
        the same call. */
    open(token, callId, url) {
      if (this.ws && this.callId === callId) return;
      this.close();
      this.callId = callId;
      this.sent = 0;
      this.received = 0;
      this.status = "connecting";
      this.report();
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const ws = new WebSocket(url || `${scheme}//${location.host}/ws/agent/audio`);
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token }));
      ws.onmessage = (event) => {
        if (ws !== this.ws) return;
        if (typeof event.data === "string") {
          const message = JSON.parse(event.data);
          if (message.type === "audio") this.startMedia(ws);
          return;
        }
        this.received += 1;
        if (this.playback) this.playback.port.postMessage(event.data, [event.data]);
        if (this.received % 10 === 0) this.report();
      };
      ws.onclose = (event) => {
        if (ws !== this.ws) return;
        this.status = event.code === NO_CALL ? "phone" : "ended";
        this.stopMedia();
        this.ws = null;
        this.report();
      };
    }

    async startMedia(ws) {
      try {
        this.context = new AudioContext();
        await this.context.audioWorklet.addModule("audio-worklet.js");
        this.stream = await navigator.mediaDevices.getUserMedia({
          audio: { echoCancellation: true, noiseSuppression: true, channelCount: 1 },
        });
      } catch (error) {
        this.status = "no microphone";
        this.report();
        CC.toast("error", "audio", `no call audio: ${error.message || error}`);
        return;
      }
      if (ws !== this.ws || !this.context) return; // the call ended meanwhile
      const mic = this.context.createMediaStreamSource(this.stream);
      // No outputs: the browser pulls it without a connection to the speakers.
      const capture = new AudioWorkletNode(this.context, "mic-capture", { numberOfOutputs: 0 });
      capture.port.onmessage = (event) => {
        // A socket that cannot keep up drops frames instead of building up delay.
        if (ws.readyState === WebSocket.OPEN && ws.bufferedAmount < 3200) {
          ws.send(event.data);
          this.sent += 1;
          if (this.sent % 10 === 0) this.report();
        }
      };
      mic.connect(capture);
      this.playback = new AudioWorkletNode(this.context, "call-playback", { outputChannelCount: [1] });
      this.playback.connect(this.context.destination);
      await this.context.resume();
      this.status = "live";
      this.report();
    }

    stopMedia() {
      if (this.stream) for (const track of this.stream.getTracks()) track.stop();
      if (this.context) this.context.close();
      this.stream = null;
      this.context = null;
      this.playback = null;
    }

    close() {
      const ws = this.ws;
      this.ws = null;
      this.stopMedia();
      if (ws) ws.close(1000, "call over");
      this.callId = null;
      if (this.status !== "idle") {
        this.status = "ended";
        this.report();
      }
    }
  }

  return { CallAudio };
})();
