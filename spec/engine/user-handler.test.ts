/**
 * The engine driving the user module (session_set_save_handler) compared with php-cgi; the
 * scenarios are in user-handler-scenarios.ts.
 */
import { it } from 'vitest';
import { describeWith } from '../support/tools.ts';
import { expectSameAsPhp } from './diff-helper.ts';
import { scenarios } from './user-handler-scenarios.ts';

describeWith(['php-cgi'], 'engine + user module vs php-cgi', () => {
  for (const [name, s] of Object.entries(scenarios)) {
    it(name, async () => {
      await expectSameAsPhp(s);
    });
  }
});
