// The texts optgraph hands back to send: built from a campaign's disclosures so every message
// carries what COMPLIANCE.md asks of it.

export interface MessageDisclosures {
  programName: string;
  messageFrequency: string;
  helpText: string;
  optInConfirmation: string;
  optOutConfirmation: string;
}

/** The double opt-in prompt: program, frequency, rates, how to confirm and how to cancel. */
export function confirmationPrompt(d: MessageDisclosures): string {
  return `${d.programName}: reply Y to confirm your subscription. ${d.messageFrequency}. Msg & data rates may apply. Reply HELP for help, STOP to cancel.`;
}

export const optInConfirmation = (d: MessageDisclosures) => d.optInConfirmation;
export const optOutConfirmation = (d: MessageDisclosures) => d.optOutConfirmation;

/** After an opt-out that spans several programs (STOPALL): no marketing, how to come back. */
export function organizationOptOutConfirmation(programNames: readonly string[]): string {
  const names = programNames.length > 0 ? programNames.join(", ") : "all programs";
  return `You're unsubscribed from ${names} and will get no more messages. Reply START to rejoin.`;
}

/** The HELP reply: program, support contact (in the help text), frequency, rates, how to stop. */
export function helpReply(d: MessageDisclosures): string {
  return `${d.programName}: ${d.helpText} ${d.messageFrequency}. Msg & data rates may apply. Reply STOP to cancel.`;
}
