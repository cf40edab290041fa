// targets.mjs lists, for each hooklab fixture checked against a published
// TypeScript type, the alias in types/entry.ts that generate.mjs turns into
// interop/fidelity/schemas/<fixture>.json, and the citation of that type.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
export const schemasDir = join(here, '..', 'schemas');

// version returns the installed (pinned) version of the npm package pkg.
export function version(pkg) {
  return JSON.parse(readFileSync(join(here, 'node_modules', pkg, 'package.json'), 'utf8')).version;
}

// body says how a fixture's body becomes the JSON value validated: "json" (the
// body), "form" (the form fields, an object of strings) or "form-payload" (the
// JSON in the form field payload).
export const TARGETS = [
  { fixture: 'slack/event_callback', alias: 'SlackEventCallback', pkg: '@slack/bolt', type: 'EnvelopedEvent<AppMentionEvent>', also: '@slack/types', body: 'json', note: 'AppMentionEvent from @slack/types' },
  { fixture: 'slack/slash_command', alias: 'SlackSlashCommand', pkg: '@slack/bolt', type: 'SlashCommand', body: 'form', note: 'validates the form fields as an object of strings' },
  { fixture: 'slack/block_actions', alias: 'SlackBlockActions', pkg: '@slack/bolt', type: 'BlockAction<ButtonAction>', also: '@slack/types', body: 'form-payload', note: 'validates the JSON in the payload= form field' },
  { fixture: 'discord/ping', alias: 'DiscordPing', pkg: 'discord-api-types', type: 'APIPingInteraction', body: 'json', note: 'from discord-api-types/v10' },
  { fixture: 'discord/application_command', alias: 'DiscordApplicationCommand', pkg: 'discord-api-types', type: 'APIChatInputApplicationCommandGuildInteraction', body: 'json', note: 'from discord-api-types/v10' },
  { fixture: 'clerk/user.created', alias: 'ClerkUserCreated', pkg: '@clerk/backend', type: 'UserWebhookEvent', body: 'json', note: "the member for 'user.created' and 'user.updated', whose data is UserJSON" },
  { fixture: 'linear/Issue', alias: 'LinearIssue', pkg: '@linear/sdk', type: 'EntityWebhookPayloadWithIssueData', body: 'json', note: 'from @linear/sdk/webhooks; data is IssueWebhookPayload' },
  { fixture: 'linear/Comment', alias: 'LinearComment', pkg: '@linear/sdk', type: 'EntityWebhookPayloadWithCommentData', body: 'json', note: 'from @linear/sdk/webhooks; data is CommentWebhookPayload' },
];

// citation is the short form the fixtures catalog carries in its "schema" field.
export function citation(t) {
  return `${t.pkg}@${version(t.pkg)}#${t.type}`;
}
