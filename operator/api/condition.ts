// The metav1.Condition shape both kinds report in status.conditions, as a list-map keyed by type so
// server-side apply merges conditions one by one.
import { z } from 'zod';

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];

export const Condition = z
  .object({
    type: z.string().min(1).max(316).describe('What the condition is about (CamelCase).'),
    status: z.enum(CONDITION_STATUSES),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .describe('Why, in one CamelCase word; stable, meant for programs and alerts.'),
    message: z.string().max(32_768).describe('Why, for people.'),
    lastTransitionTime: z.string().describe('When status last changed.').meta({ format: 'date-time' }),
    observedGeneration: z.int().min(0).describe('The .metadata.generation the condition was computed from.'),
  })
  .describe('One aspect of the object’s state.');
export type Condition = z.infer<typeof Condition>;

export const Conditions = z
  .array(Condition)
  .max(32)
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
  .describe('Current state, one condition per type.');
