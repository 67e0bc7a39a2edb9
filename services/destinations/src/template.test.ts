// Payload templates reach no file and cannot run without bound.
import { describe, expect, it } from 'vitest';
import { parseTemplate, renderBody } from './template';

describe('payload templates', () => {
  it('render the payload', async () => {
    expect(await renderBody('{"name": {{ profile.name | json }}}', { profile: { name: 'Lê Thị Hoa' } })).toBe(
      '{"name": "Lê Thị Hoa"}',
    );
  });

  it.each(['{% render "package.json" %}', "{% include '../../package.json' %}", '{% layout "/etc/passwd" %}x'])(
    'read no file: %s',
    async (source) => {
      await expect(renderBody(source, {})).rejects.toThrow();
    },
  );

  it('stop a loop that would run for ever', async () => {
    await expect(renderBody('{% for i in (1..1000000000) %}{{ i }}{% endfor %}', {})).rejects.toThrow();
  });

  it('name the line of a template that does not parse', () => {
    expect(() => parseTemplate('ok\n{% if %}')).toThrow(/line 2/);
  });
});
