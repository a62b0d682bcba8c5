#!/usr/bin/env bash
# Makes resources/live/bot-voice.wav, the bundled far-end talker of live mode (startLive with far: 'bot'): a voice
# bot's side of a call, which the workbench plays through the speaker (looped) as the echo canceller's reference.
#   bot-voice.wav  mono, 16-bit PCM, 16 kHz, about 18.5 s: four prompts (espeak-ng en-us+f2) with 600 ms pauses between
#                  them (room for the near talker) and 300 ms of silence at each end; peak-normalised to -3 dBFS.
#
# Deterministic: espeak-ng synthesis has no randomness and every sox call runs with -D (no dither), so the same tool
# versions give byte-identical files.
# Needs: espeak-ng, sox (Debian packages). Run from anywhere: bash resources/live/make-bot-voice.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

voice='en-us+f2'
speed=165 # words per minute: a bot's unhurried pace

say() { # say <index> <text>: one prompt at espeak-ng's native 22.05 kHz
  espeak-ng -v "$voice" -s "$speed" -w "$work/p$1.wav" "$2"
}

say 1 'Hello, and thanks for calling. This is the workbench test bot.'
say 2 'Please tell me, in a few words, how I can help you today.'
say 3 'I am sorry, I did not catch that. Could you say it again?'
say 4 'Thank you. One moment while I look that up for you.'

sox -D -n -r 22050 -c 1 -b 16 "$work/pause.wav" trim 0 0.6
sox -D "$work/p1.wav" "$work/pause.wav" "$work/p2.wav" "$work/pause.wav" "$work/p3.wav" "$work/pause.wav" \
  "$work/p4.wav" "$work/all.wav" pad 0.3 0.3
sox -D "$work/all.wav" -r 16000 -c 1 -b 16 -e signed-integer "$here/bot-voice.wav" rate -v 16000 gain -n -3

printf 'bot-voice.wav: %s s at %s Hz\n' "$(soxi -D "$here/bot-voice.wav")" "$(soxi -r "$here/bot-voice.wav")"
