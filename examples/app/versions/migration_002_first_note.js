// Data belongs in migrations too: the note the app greets with.
exports.getMigration = () => ({
  version: 2,
  description: 'Add the first note',
  async up(knex) {
    await knex('notes').insert({ text: 'migrated at start-up' });
  },
  async down(knex) {
    await knex('notes').where({ text: 'migrated at start-up' }).del();
  },
});
