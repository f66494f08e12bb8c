#!/usr/bin/env bash
# Makes the voice segments the hall screens string together for announcements
# ("Numer A 12, stanowisko 3"): display/audio/<lang>/<segment>.ogg, plus the chime
# display/audio/chime.ogg. Run it once after changing a word or the voice; the output is
# committed, so neither the server nor the screens need a speech engine.
#
# Needs (only here, at generation time), from Debian:
#   apt-get install espeak-ng sox opus-tools
#
# The voice is eSpeak NG's (GPL-3.0-or-later; its speech output is not covered by the GPL, see
# display/audio/README.md). To use recorded human voice instead, put WAV files with the same
# names in a folder and run:  scripts/make-voice.sh --from-wav DIR   (DIR/<lang>/<segment>.wav).
#
# Segments: per language the words "numer" and "stanowisko", the letters a-z (l-a ... l-z),
# the numbers 0-19, the tens 20-90, the hundreds 100-900 (n-…), and the words for thousand
# (k-1 "tysiąc", k-2 "tysiące", k-5 "tysięcy"); Ukrainian also has the feminine "одна", "дві"
# (n-1f, n-2f) said before "тисяча". display/lib/voice.js composes numbers from these.
#
# The files are Ogg Opus, mono, 24 kbit/s, leading and trailing silence trimmed; the Ogg
# stream serial is fixed so that the same input gives the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=display/audio
FROM_WAV=""
if [ "${1:-}" = "--from-wav" ]; then
  FROM_WAV="${2:?--from-wav needs a folder}"
fi

for tool in sox opusenc; do
  command -v "$tool" >/dev/null || { echo "make-voice: $tool is missing (apt-get install sox opus-tools)" >&2; exit 1; }
done
if [ -z "$FROM_WAV" ]; then
  command -v espeak-ng >/dev/null || { echo "make-voice: espeak-ng is missing (apt-get install espeak-ng)" >&2; exit 1; }
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# encode IN.wav OUT.ogg: trim silence, normalise, resample, encode.
encode() {
  sox -D "$1" -b 16 -c 1 -r 48000 "$TMP/trim.wav" \
    silence 1 0.02 0.4% reverse silence 1 0.02 0.4% reverse \
    pad 0.02 0.04 norm -1
  opusenc --quiet --bitrate 24 --comp 10 --serial 1 --discard-comments "$TMP/trim.wav" "$2"
}

# say LANG VOICE SPEED NAME TEXT [ssml]
say() {
  local lang=$1 voice=$2 speed=$3 name=$4 text=$5 ssml=${6:-}
  mkdir -p "$OUT/$lang"
  if [ -n "$FROM_WAV" ]; then
    encode "$FROM_WAV/$lang/$name.wav" "$OUT/$lang/$name.ogg"
    return
  fi
  if [ -n "$ssml" ]; then
    espeak-ng -m -v "$voice" -s "$speed" -w "$TMP/raw.wav" "$text"
  else
    espeak-ng -v "$voice" -s "$speed" -w "$TMP/raw.wav" "$text"
  fi
  encode "$TMP/raw.wav" "$OUT/$lang/$name.ogg"
}

letters() {
  local lang=$1 voice=$2 speed=$3
  for l in a b c d e f g h i j k l m n o p q r s t u v w x y z; do
    local up
    up=$(echo "$l" | tr 'a-z' 'A-Z')
    say "$lang" "$voice" "$speed" "l-$l" "<say-as interpret-as=\"characters\">$up</say-as>" ssml
  done
}

# numbers LANG VOICE SPEED WORDS...: WORDS are 0..19, then 20..90 by ten, then 100..900 by
# a hundred (37 words).
numbers() {
  local lang=$1 voice=$2 speed=$3
  shift 3
  local names=(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19
    20 30 40 50 60 70 80 90 100 200 300 400 500 600 700 800 900)
  local i=0
  for word in "$@"; do
    say "$lang" "$voice" "$speed" "n-${names[$i]}" "$word"
    i=$((i + 1))
  done
  [ "$i" -eq 37 ] || { echo "make-voice: $lang has $i number words, expected 37" >&2; exit 1; }
}

rm -rf "$OUT/pl" "$OUT/uk" "$OUT/en"

# Polish (the announcement every screen makes).
PL=(pl pl 140)
say "${PL[@]}" numer "Numer"
say "${PL[@]}" stanowisko "stanowisko"
letters "${PL[@]}"
numbers "${PL[@]}" zero jeden dwa trzy cztery pięć sześć siedem osiem dziewięć dziesięć \
  jedenaście dwanaście trzynaście czternaście piętnaście szesnaście siedemnaście osiemnaście \
  dziewiętnaście dwadzieścia trzydzieści czterdzieści pięćdziesiąt sześćdziesiąt \
  siedemdziesiąt osiemdziesiąt dziewięćdziesiąt sto dwieście trzysta czterysta pięćset \
  sześćset siedemset osiemset dziewięćset
say "${PL[@]}" k-1 "tysiąc"
say "${PL[@]}" k-2 "tysiące"
say "${PL[@]}" k-5 "tysięcy"

# Ukrainian. Latin prefix letters are read the Ukrainian way (А, Бе, Це…), as people read
# a Latin letter aloud there; "вікно" is what the office's Ukrainian texts call a counter.
UK=(uk uk 140)
say "${UK[@]}" numer "Номер"
say "${UK[@]}" stanowisko "вікно"
uk_letters=(а бе це де е еф ґе ха і йот ка ель ем ен о пе ку ер ес те у ве дубль-ве ікс ігрек зет)
i=0
for l in a b c d e f g h i j k l m n o p q r s t u v w x y z; do
  say "${UK[@]}" "l-$l" "${uk_letters[$i]}"
  i=$((i + 1))
done
numbers "${UK[@]}" нуль один два три чотири п’ять шість сім вісім дев’ять десять одинадцять \
  дванадцять тринадцять чотирнадцять п’ятнадцять шістнадцять сімнадцять вісімнадцять \
  дев’ятнадцять двадцять тридцять сорок п’ятдесят шістдесят сімдесят вісімдесят дев’яносто \
  сто двісті триста чотириста п’ятсот шістсот сімсот вісімсот дев’ятсот
say "${UK[@]}" n-1f "одна"
say "${UK[@]}" n-2f "дві"
say "${UK[@]}" k-1 "тисяча"
say "${UK[@]}" k-2 "тисячі"
say "${UK[@]}" k-5 "тисяч"

# English.
EN=(en en-gb 145)
say "${EN[@]}" numer "Number"
say "${EN[@]}" stanowisko "counter"
letters "${EN[@]}"
numbers "${EN[@]}" zero one two three four five six seven eight nine ten eleven twelve \
  thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty \
  sixty seventy eighty ninety "one hundred" "two hundred" "three hundred" "four hundred" \
  "five hundred" "six hundred" "seven hundred" "eight hundred" "nine hundred"
say "${EN[@]}" k-1 "thousand"
cp "$OUT/en/k-1.ogg" "$OUT/en/k-2.ogg"
cp "$OUT/en/k-1.ogg" "$OUT/en/k-5.ogg"

# The chime: three soft bell-like tones going up (G5, C6, E6), made with sox, no recording.
if [ -z "$FROM_WAV" ] || [ ! -f "$FROM_WAV/chime.wav" ]; then
  for f in 784 1047 1319; do
    sox -n -r 48000 -c 1 "$TMP/tone-$f.wav" synth 0.9 sine "$f" synth 0.9 sine mix "$((f * 2))" \
      fade q 0.005 0.9 0.85 vol 0.5
  done
  sox "$TMP/tone-1047.wav" "$TMP/tone-1047p.wav" pad 0.45
  sox "$TMP/tone-1319.wav" "$TMP/tone-1319p.wav" pad 0.9
  sox -m "$TMP/tone-784.wav" "$TMP/tone-1047p.wav" "$TMP/tone-1319p.wav" "$TMP/chime-raw.wav"
  sox -D "$TMP/chime-raw.wav" -b 16 "$TMP/chime.wav" norm -3 pad 0 0.1
else
  cp "$FROM_WAV/chime.wav" "$TMP/chime.wav"
fi
opusenc --quiet --bitrate 32 --comp 10 --serial 1 --discard-comments "$TMP/chime.wav" "$OUT/chime.ogg"

echo "make-voice: $(find "$OUT" -name '*.ogg' | wc -l) files, $(du -sh "$OUT" | cut -f1) in $OUT"
