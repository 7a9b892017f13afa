// Where the signed-in API key lives: this tab's sessionStorage only, so it is gone when the tab
// closes and never reaches disk-backed storage, cookies or the URL.
const STORAGE_KEY = "optgraph.admin.apiKey";

export const savedApiKey = (): string | null => sessionStorage.getItem(STORAGE_KEY);

export const saveApiKey = (apiKey: string): void => sessionStorage.setItem(STORAGE_KEY, apiKey);

export const forgetApiKey = (): void => sessionStorage.removeItem(STORAGE_KEY);
