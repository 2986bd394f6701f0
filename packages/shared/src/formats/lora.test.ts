// LoRA folder names, tokens and captions, with hand-checkable poses.
import { describe, expect, it } from 'vitest';
import { loraCaption, loraFolderName, loraToken, poseWords } from './lora';

describe('lora captions', () => {
  it('name the pose: frontal, three-quarter or profile with the side, up or down, tilted', () => {
    expect(poseWords({ yaw: 3, pitch: -4, roll: 2 })).toEqual(['frontal']);
    expect(poseWords({ yaw: 30, pitch: 0, roll: 0 })).toEqual(['three-quarter view, facing right']);
    expect(poseWords({ yaw: -30, pitch: 20, roll: 0 })).toEqual(['three-quarter view, facing left', 'looking up']);
    expect(poseWords({ yaw: -70, pitch: -25, roll: 30 })).toEqual(['profile, facing left', 'looking down', 'tilted head']);
    expect(poseWords({ yaw: 50, pitch: 15, roll: -20 })).toEqual(['profile, facing right']);
    expect(poseWords(undefined)).toEqual([]);
  });
  it('start with the token and class the folder names', () => {
    expect(loraCaption('zoe_saldana', 'person', poseWords({ yaw: 10, pitch: 0, roll: 0 }))).toBe('zoe_saldana person, frontal\n');
    expect(loraToken('Zoë Saldaña', 'faceset_001')).toBe('zoe_saldana');
    expect(loraToken(null, 'faceset_001')).toBe('faceset_001');
    expect(loraFolderName(10, 'zoe_saldana', 'woman!')).toBe('10_zoe_saldana woman');
  });
});
