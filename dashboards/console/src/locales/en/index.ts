// Every text of the console in this language, one module per screen.
import { common } from './common';
import { overview } from './overview';
import { retention } from './retention';
import { repeat } from './repeat';
import { groups } from './groups';
import { segments } from './segments';
import { customers } from './customers';
import { care } from './care';
import { destinations } from './destinations';

export const messages = { common, overview, retention, repeat, groups, segments, customers, care, destinations };
