// A full pass counts drift only once following has read every profile change written before the pass began.
import { describe, expect, it } from 'vitest';
import { reached } from './evaluator';

describe('reached', () => {
  it('holds when every partition is at or past its end offset then', () => {
    expect(reached({ 0: '10', 1: '7' }, { 0: '10', 1: '5' })).toBe(true);
    expect(reached({ 0: '12' }, { 0: '10' })).toBe(true);
  });

  it('fails while a partition is behind, or unknown to the position', () => {
    expect(reached({ 0: '9', 1: '7' }, { 0: '10', 1: '5' })).toBe(false);
    expect(reached({ 0: '10' }, { 0: '10', 1: '5' })).toBe(false);
  });

  it('needs nothing of a partition that was empty', () => {
    expect(reached({}, { 0: '0' })).toBe(true);
    expect(reached({ 1: '3' }, { 0: '0', 1: '3' })).toBe(true);
  });

  it('compares offsets as numbers, not text', () => {
    expect(reached({ 0: '10' }, { 0: '9' })).toBe(true);
    expect(reached({ 0: '9' }, { 0: '10' })).toBe(false);
  });
});
