// The published TypeScript types each hooklab fixture is checked against,
// one exported alias per fixture. generate.mjs turns each alias into JSON
// Schema; the alias adds nothing of its own except picking one member of a
// union or filling a type parameter, as the comment above it says.

import type { EnvelopedEvent, BlockAction, ButtonAction, SlashCommand } from '@slack/bolt';
import type { AppMentionEvent } from '@slack/types';
import type { APIPingInteraction, APIChatInputApplicationCommandGuildInteraction } from 'discord-api-types/v10';
import type { UserWebhookEvent } from '@clerk/backend';
import type { EntityWebhookPayloadWithIssueData, EntityWebhookPayloadWithCommentData } from '@linear/sdk/webhooks';

/** slack/event_callback: the Events API envelope around an app_mention event. */
export type SlackEventCallback = EnvelopedEvent<AppMentionEvent>;

/** slack/slash_command: the form fields of a slash command request. */
export type SlackSlashCommand = SlashCommand;

/** slack/block_actions: the JSON in the payload= form field of a button click. */
export type SlackBlockActions = BlockAction<ButtonAction>;

/** discord/ping: the PING interaction. */
export type DiscordPing = APIPingInteraction;

/** discord/application_command: a chat-input (slash) command invoked in a guild. */
export type DiscordApplicationCommand = APIChatInputApplicationCommandGuildInteraction;

/** clerk/user.created: the member of UserWebhookEvent for user.created and user.updated (data: UserJSON). */
export type ClerkUserCreated = Exclude<UserWebhookEvent, { type: 'user.deleted' }>;

/** linear/Issue: an Issue entity webhook. */
export type LinearIssue = EntityWebhookPayloadWithIssueData;

/** linear/Comment: a Comment entity webhook. */
export type LinearComment = EntityWebhookPayloadWithCommentData;
