/**
 * @module spec/msession/memcached.test
 * msession over the memcached (php-memcached) module against live PHP 8.2 and a live memcached:
 * listing through `lru_crawler metadump all`.
 */
import { describeWith } from '../support/tools.ts';
import { msessionSuite } from './suite.ts';
import { MEMCACHE_EXTENSIONS, useMemcacheBackend } from './support.ts';

const tools = ['php', 'memcached', ...MEMCACHE_EXTENSIONS.map((e) => `php-ext:${e}`)];
describeWith(tools, 'msession ⇄ PHP 8.2: memcached', () => msessionSuite(useMemcacheBackend('memcached')));
describeWith(tools, 'msession ⇄ PHP 8.2: memcache (pecl)', () => msessionSuite(useMemcacheBackend('memcache')));
