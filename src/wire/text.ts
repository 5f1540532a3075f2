// How the protocol counts and checks text, without zod: the schemas (messages.ts)
// and the browser client use the same rules and the same sentences. String bounds
// count Unicode code points, as the original server (Python `len`) did: an emoji
// is one character, not two UTF-16 units.

export const NICKNAME_PATTERN = /^[A-Za-z0-9_-]+$/;

/** Code points in `text`, counting no further than `limit + 1` (enough to know it is over). */
export function codePointsUpTo(text: string, limit = Number.POSITIVE_INFINITY): number {
  let count = 0;
  for (let i = 0; i < text.length && count <= limit; i++) {
    const unit = text.charCodeAt(i);
    // A low surrogate after a high one belongs to the same code point.
    if (unit >= 0xdc00 && unit <= 0xdfff && i > 0) {
      const previous = text.charCodeAt(i - 1);
      if (previous >= 0xd800 && previous <= 0xdbff) continue;
    }
    count++;
  }
  return count;
}

export function isWithinCodePoints(text: string, limit: number): boolean {
  // A string never has more code points than UTF-16 units: most strings stop here.
  return text.length <= limit || codePointsUpTo(text, limit) <= limit;
}

/** `subject` is how the sentence names the field: "Field 'author'", or "A nickname" in the browser client. */
export const textSentences = {
  tooLong: (subject: string, max: number) => `${subject} must be at most ${max} characters long.`,
  nicknameLength: (subject: string, min: number, max: number) => `${subject} must be between ${min} and ${max} characters long.`,
  nicknameCharacters: (subject: string) => `${subject} may only contain letters, digits, '_' and '-'.`,
} as const;

/** Why a nickname is refused, or undefined when it is fine. */
export function nicknameProblem(subject: string, nickname: string, min: number, max: number): string | undefined {
  if (nickname.length < min || nickname.length > max) return textSentences.nicknameLength(subject, min, max);
  if (!NICKNAME_PATTERN.test(nickname)) return textSentences.nicknameCharacters(subject);
  return undefined;
}
