// The keyword sets of COMPLIANCE.md and the normalization every inbound message goes through
// before it is matched.

/** Whole-message opt-out keywords (FCC 24-24 per-se revocations, carrier and CTIA sets, es, fr). */
export const OPT_OUT_KEYWORDS = [
  "STOP",
  "UNSUBSCRIBE",
  "CANCEL",
  "END",
  "QUIT",
  "REVOKE",
  "OPTOUT",
  "OPT OUT",
  "OPT-OUT",
  "PARAR",
  "ALTO",
  "DETENER",
  "CANCELAR",
  "ARRET",
  "ARRÊT",
] as const;
export const OPT_OUT_ALL_KEYWORDS = ["STOPALL", "STOP ALL"] as const;
export const OPT_IN_KEYWORDS = ["START", "UNSTOP"] as const;
export const CONFIRM_KEYWORDS = ["YES", "Y"] as const;
export const HELP_KEYWORDS = ["HELP", "INFO"] as const;

/** Keywords with a fixed meaning, which a campaign may not claim as a join keyword. */
export const RESERVED_KEYWORDS: ReadonlySet<string> = new Set(
  [
    ...OPT_OUT_KEYWORDS,
    ...OPT_OUT_ALL_KEYWORDS,
    ...OPT_IN_KEYWORDS,
    ...CONFIRM_KEYWORDS,
    ...HELP_KEYWORDS,
  ].map((k) => normalizeMessage(k)),
);

/** Trim, NFKC, case-fold (upper), strip surrounding punctuation and emoji, collapse spaces. */
export function normalizeMessage(body: string): string {
  return body
    .normalize("NFKC")
    .toUpperCase()
    .replace(/^[\s\p{P}\p{S}\p{Extended_Pictographic}\u200d\ufe0f]+/u, "")
    .replace(/[\s\p{P}\p{S}\p{Extended_Pictographic}\u200d\ufe0f]+$/u, "")
    .replace(/\s+/gu, " ");
}
